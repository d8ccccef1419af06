"""Appointment reminders: when each one is due, and which stored ones a reschedule replaces.

A reminder is identified by ``(session_id, offset_key)``: storing reminders under that key
(upsert) means a reschedule moves the existing reminder instead of adding a second one.
Its delivery is deduplicated per ``(session_id, offset_key, starts_at)`` (`Reminder.event_id`),
so a reminder already sent for the old time is sent again for the new time, once.
Consent is not checked here: it is checked when the reminder fires, so a later opt-out wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .quiet_hours import QuietHours, as_utc, last_allowed_before, next_allowed_send

MIN_LEAD = timedelta(minutes=30)
"""A reminder pushed past quiet hours must still arrive at least this long before the session."""


@dataclass(frozen=True)
class ReminderOffset:
    key: str  # e.g. "email-24h"; stable, it is part of the reminder's identity
    channel: str  # "email" | "sms"
    before: timedelta


DEFAULT_REMINDER_OFFSETS = (
    ReminderOffset("email-24h", "email", timedelta(hours=24)),
    ReminderOffset("sms-2h", "sms", timedelta(hours=2)),
)


@dataclass(frozen=True)
class Reminder:
    session_id: str
    offset_key: str
    channel: str
    due_at: datetime
    starts_at: datetime
    event_id: str = field(init=False)
    """The id to deduplicate this reminder's delivery by (changes when the session moves)."""

    def __post_init__(self) -> None:
        event_id = f"{self.session_id}:{self.offset_key}:{self.starts_at.isoformat()}"
        object.__setattr__(self, "event_id", event_id)

    @property
    def key(self) -> tuple[str, str]:
        return reminder_key(self.session_id, self.offset_key)


def reminder_key(session_id: str, offset_key: str) -> tuple[str, str]:
    return (session_id, offset_key)


def reminder_times(
    session_starts_at_utc: str | datetime,
    offsets: Sequence[ReminderOffset],
    now: datetime,
) -> list[tuple[str, datetime]]:
    """`(offset_key, due_at)` for every reminder still ahead of `now`, earliest first."""
    return _due_times(as_utc(session_starts_at_utc), offsets, as_utc(now))


def _due_times(
    starts_at: datetime, offsets: Sequence[ReminderOffset], now: datetime
) -> list[tuple[str, datetime]]:
    due = [(offset.key, starts_at - offset.before) for offset in offsets]
    return sorted(((key, at) for key, at in due if at > now), key=lambda item: item[1])


def plan_reminders(
    session_id: str,
    session_starts_at_utc: str | datetime,
    offsets: Sequence[ReminderOffset],
    now: datetime,
    *,
    tz: str | ZoneInfo | None = None,
    quiet: QuietHours | None = None,
) -> list[Reminder]:
    """The reminders to store for a newly scheduled or rescheduled session.

    With `tz` and `quiet`, a reminder due in quiet hours is moved to when they end if that is
    still `MIN_LEAD` before the session, else to just before they began, else dropped.
    """
    starts_at, now = as_utc(session_starts_at_utc), as_utc(now)
    channels = {offset.key: offset.channel for offset in offsets}
    planned = []
    for key, due_at in _due_times(starts_at, offsets, now):
        fitted: datetime | None = due_at
        if tz is not None and quiet is not None:
            fitted = fit_to_quiet_hours(due_at, starts_at, now, tz, quiet)
        if fitted is not None:
            planned.append(Reminder(session_id, key, channels[key], fitted, starts_at))
    return planned


def fit_to_quiet_hours(
    due_at: datetime, starts_at: datetime, now: datetime, tz: str | ZoneInfo, quiet: QuietHours
) -> datetime | None:
    """A send time outside quiet hours that is still useful, or None to skip the reminder."""
    later = next_allowed_send(due_at, tz, quiet)
    if later == due_at or later <= starts_at - MIN_LEAD:
        return later
    earlier = last_allowed_before(due_at, tz, quiet)
    return earlier if earlier > now else None


def stale_reminder_keys(
    stored: Iterable[tuple[str, str]], planned: Iterable[Reminder]
) -> set[tuple[str, str]]:
    """Stored pending reminder keys that a reschedule did not re-plan: cancel them."""
    return set(stored) - {reminder.key for reminder in planned}
