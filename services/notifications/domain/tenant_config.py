"""A clinic's settings as the rules read them: quiet hours, reminders, report cadence, inboxes.

Built from the stored settings document (`TenantConfig.from_mapping`); absent keys take the
defaults below. A bad value raises ValueError, so a clinic's settings are checked when they are
saved rather than when a message is due.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from .quiet_hours import DEFAULT_QUIET_HOURS, NO_QUIET_HOURS, QuietHours, zone
from .reminders import DEFAULT_REMINDER_OFFSETS, ReminderOffset


@dataclass(frozen=True)
class TenantConfig:
    quiet_hours: QuietHours = DEFAULT_QUIET_HOURS
    reminder_offsets: tuple[ReminderOffset, ...] = DEFAULT_REMINDER_OFFSETS
    progress_report_every: int = 4  # completed sessions between progress reports
    short_notice_margin: timedelta = timedelta(hours=2)
    language: str = "en"
    timezone: str = "UTC"  # for events that carry no location_tz
    location_timezones: Mapping[str, str] = field(default_factory=dict)
    staff_emails: Mapping[str, str] = field(default_factory=dict)  # location id or "*"
    partner_webhooks: Mapping[str, str] = field(default_factory=dict)  # partner id -> URL
    phone_region: str = "US"  # for phone numbers written without a country code

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | TenantConfig | None) -> TenantConfig:
        """Build from a stored tenant document; absent keys take the defaults above."""
        if isinstance(raw, TenantConfig):
            return raw
        raw = raw or {}
        values: dict[str, Any] = {}
        if "quiet_hours" in raw:
            quiet = raw["quiet_hours"]
            values["quiet_hours"] = (
                QuietHours.parse(quiet["start"], quiet["end"]) if quiet else NO_QUIET_HOURS
            )
        if "reminders" in raw:
            values["reminder_offsets"] = offsets = tuple(
                ReminderOffset(
                    r["key"], r["channel"], timedelta(minutes=float(r["minutes_before"]))
                )
                for r in raw["reminders"]
            )
            if any(o.channel not in ("email", "sms") or o.before <= timedelta(0) for o in offsets):
                raise ValueError("reminders need channel email or sms and minutes_before > 0")
            if len({o.key for o in offsets}) != len(offsets):
                raise ValueError("reminder keys must be unique")
        if "progress_report_every_sessions" in raw:
            values["progress_report_every"] = int(raw["progress_report_every_sessions"])
            if values["progress_report_every"] < 1:
                raise ValueError("progress_report_every_sessions must be at least 1")
        if "short_notice_margin_minutes" in raw:
            values["short_notice_margin"] = timedelta(
                minutes=int(raw["short_notice_margin_minutes"])
            )
        for key in ("language", "timezone", "phone_region"):
            if raw.get(key):
                values[key] = str(raw[key])
        for key in ("location_timezones", "staff_emails", "partner_webhooks"):
            values[key] = dict(raw.get(key) or {})
        for tz in (values.get("timezone", "UTC"), *values["location_timezones"].values()):
            zone(tz)  # fails early on an unknown zone
        return cls(**values)
