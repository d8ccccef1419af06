"""Quiet hours: no non-urgent patient message between, by default, 21:00 and 08:00 local time.

Local time is the wall clock of the session's location (an IANA zone). The window is
half-open, ``[start, end)``; ``start > end`` means it crosses midnight; ``start == end`` means
no quiet hours. Times are wall-clock times, so a DST change moves their UTC instant: the
window still ends at 08:00 local on the day the clocks change. An end time that does not
exist that day (spring-forward gap) is shifted forward by the gap (02:30 becomes 03:30); one
that occurs twice (fall-back) resolves to the first occurrence still ahead of "now".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LAST_CALL = timedelta(minutes=1)
"""How long before quiet hours start `last_allowed_before` moves a message."""


@dataclass(frozen=True)
class QuietHours:
    start: time = time(21, 0)
    end: time = time(8, 0)

    @classmethod
    def parse(cls, start: str, end: str) -> QuietHours:
        """`QuietHours.parse("21:00", "08:00")`; raises ValueError on a malformed time."""
        return cls(time.fromisoformat(start), time.fromisoformat(end))

    @property
    def enabled(self) -> bool:
        return self.start != self.end

    def contains(self, wall: time) -> bool:
        """Whether a local wall-clock time falls inside the quiet window."""
        if not self.enabled:
            return False
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end


DEFAULT_QUIET_HOURS = QuietHours()
NO_QUIET_HOURS = QuietHours(time(0), time(0))


def as_utc(value: str | datetime) -> datetime:
    """An aware UTC datetime from an ISO-8601 string or datetime; naive input is refused."""
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return instant.astimezone(UTC)


def zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def next_allowed_send(
    now_utc: datetime, tz: str | ZoneInfo, quiet: QuietHours, *, urgent: bool = False
) -> datetime:
    """`now_utc` if a message may go out now, else the UTC instant quiet hours end."""
    now = as_utc(now_utc)
    local = now.astimezone(zone(tz))
    if urgent or not quiet.contains(local.time()):
        return now
    end_day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        end_day += timedelta(days=1)
    return _first_after(end_day, quiet.end, zone(tz), now)


def short_notice(
    now_utc: datetime,
    starts_at: str | datetime,
    tz: str | ZoneInfo,
    quiet: QuietHours,
    margin: timedelta,
) -> bool:
    """Whether a message about a session starting at `starts_at` is short notice (and so goes
    out even in quiet hours): the session is today (or has begun) at its location, or waiting
    out quiet hours would leave less than `margin` before it starts."""
    now, start, local = as_utc(now_utc), as_utc(starts_at), zone(tz)
    if start.astimezone(local).date() <= now.astimezone(local).date():
        return True
    return next_allowed_send(now, local, quiet) > start - margin


def last_allowed_before(instant_utc: datetime, tz: str | ZoneInfo, quiet: QuietHours) -> datetime:
    """`instant_utc` if allowed, else one minute before the quiet window around it started."""
    instant = as_utc(instant_utc)
    local = instant.astimezone(zone(tz))
    if not quiet.contains(local.time()):
        return instant
    start_day = local.date()
    if quiet.start > quiet.end and local.time() < quiet.end:
        start_day -= timedelta(days=1)
    start = datetime.combine(start_day, quiet.start, zone(tz)).astimezone(UTC)
    return start - LAST_CALL


def _first_after(day: date, wall: time, tz: ZoneInfo, now: datetime) -> datetime:
    """The earliest UTC instant after `now` whose local wall clock shows `wall` on `day`."""
    naive = datetime.combine(day, wall)
    real = sorted(
        instant
        for fold in (0, 1)
        if (instant := naive.replace(tzinfo=tz, fold=fold).astimezone(UTC))
        .astimezone(tz)
        .replace(tzinfo=None)
        == naive
    )
    if not real:  # in the spring-forward gap: shift forward by the gap
        return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    return next((c for c in real if c > now), real[-1])
