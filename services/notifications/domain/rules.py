"""Who hears about an event, on which channel, with which template: pure, no I/O.

The table is `rules.json` (data, one row per event x audience); this module reads it, applies
its named conditions, consent and quiet-hour policy, and returns `Notification`s. A patient
message the patient did not consent to is still returned, marked ``suppressed="consent"``, so
the delivery log can say so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import phonenumbers

from .quiet_hours import DEFAULT_QUIET_HOURS, NO_QUIET_HOURS, QuietHours, as_utc, zone
from .quiet_hours import next_allowed_send as _next_allowed_send
from .reminders import DEFAULT_REMINDER_OFFSETS, ReminderOffset

AUDIENCES = ("patient", "referrer", "staff", "partner")
CHANNELS = ("email", "sms", "webhook")
URGENCIES = ("never", "always", "short_notice")
# Internal events the worker feeds back into plan_notifications:
REMINDER_DUE = "session.reminder_due"
"""A stored reminder fell due. data: the session event's data + ``offset_key``, ``channel``."""
DELIVERY_FAILED = "notification.delivery_failed"
"""A delivery failed for good. data: ``recipient_key, channel, template, reason, attempts,
failed_event_type`` and, if known, ``location_id`` (else the tenant-wide staff inbox)."""
SUPPRESSED_BY_CONSENT = "consent"


@dataclass(frozen=True)
class PatientPrefs:
    email_ok: bool = False
    sms_ok: bool = False
    opted_out_channels: frozenset[str] = frozenset()
    language: str | None = None

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | PatientPrefs | None) -> PatientPrefs:
        if isinstance(raw, PatientPrefs):
            return raw
        raw = raw or {}
        return cls(
            email_ok=bool(raw.get("email_ok", False)),
            sms_ok=bool(raw.get("sms_ok", False)),
            opted_out_channels=frozenset(raw.get("opted_out_channels") or ()),
            language=raw.get("language") or None,
        )

    def allows(self, channel: str) -> bool:
        consented = {"email": self.email_ok, "sms": self.sms_ok}.get(channel, False)
        return consented and channel not in self.opted_out_channels


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


@dataclass(frozen=True)
class Rule:
    event: str
    audience: str
    channels: tuple[str, ...]
    template: str
    urgency: str = "never"
    when: str | None = None
    needs_consent: bool = False
    quiet_hours: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Notification:
    event_type: str
    audience: str
    recipient_key: str  # "patient:<id>", "referrer:<email>", "staff:<location|all>", "partner:<id>"
    channel: str
    template: str
    urgent: bool = False
    address: str | None = None  # None: resolve from the contact directory by recipient_key
    language: str = "en"
    timezone: str = "UTC"
    quiet_hours: bool = False
    suppressed: str | None = None  # e.g. "consent": log it, do not send it


Condition = Callable[[Mapping[str, Any], TenantConfig, datetime | None], bool]


def _session_ahead(data: Mapping[str, Any], now: datetime | None) -> bool:
    """A session that has not started yet (a back-dated booking needs no confirmation)."""
    starts_at = data.get("starts_at")
    if not starts_at or now is None:
        return True
    return datetime.fromisoformat(str(starts_at).replace("Z", "+00:00")) > now


CONDITIONS: dict[str, Condition] = {
    "has_partner": lambda data, cfg, now: bool(data.get("partner_id")),
    "needs_clearance": lambda data, cfg, now: (
        (data.get("screening") or {}).get("outcome") == "needs_clearance"
    ),
    "treatment_blocked": lambda data, cfg, now: (
        (data.get("screening") or {}).get("outcome") == "blocked"
    ),
    "booked_by_patient": lambda data, cfg, now: data.get("booked_by") == "patient",
    "clinic_cancelled": lambda data, cfg, now: data.get("cancelled_by") != "patient",
    "patient_cancelled": lambda data, cfg, now: data.get("cancelled_by") == "patient",
    "email_reminder": lambda data, cfg, now: data.get("channel") == "email",
    "sms_reminder": lambda data, cfg, now: data.get("channel") == "sms",
    "progress_report_due": lambda data, cfg, now: (
        int(data.get("sessions_completed") or 0) > 0
        and int(data["sessions_completed"]) % cfg.progress_report_every == 0
    ),
    "not_about_a_failure_report": lambda data, cfg, now: (
        data.get("template") != "staff_delivery_failed"
    ),
    "session_ahead": lambda data, cfg, now: _session_ahead(data, now),
}


@cache
def load_rules() -> tuple[Rule, ...]:
    """The rule table from `rules.json`, checked: a bad row fails at start-up, not at send time."""
    raw = json.loads(resources.files(__package__).joinpath("rules.json").read_text("utf-8"))
    rules = tuple(Rule(**{**row, "channels": tuple(row["channels"])}) for row in raw["rules"])
    for rule in rules:
        problems = [
            rule.audience not in AUDIENCES and f"audience {rule.audience!r}",
            any(c not in CHANNELS for c in rule.channels) and f"channels {rule.channels!r}",
            rule.urgency not in URGENCIES and f"urgency {rule.urgency!r}",
            rule.when is not None and rule.when not in CONDITIONS and f"condition {rule.when!r}",
            rule.audience == "patient" and not rule.needs_consent and "patient without consent",
        ]
        if bad := [p for p in problems if p]:
            raise ValueError(f"rules.json {rule.event}/{rule.audience}: bad {', '.join(bad)}")
    return rules


def plan_notifications(
    event_type: str,
    data: Mapping[str, Any],
    prefs: Mapping[str, Any] | PatientPrefs | None,
    tenant_config: Mapping[str, Any] | TenantConfig | None,
    *,
    now: datetime | None = None,
) -> list[Notification]:
    """Every notification `event_type` calls for (suppressed ones included, marked).

    `prefs` are the patient's stored preferences; consent carried by the event itself
    (``data.consent``) is newer and wins, but a stored opt-out always wins. `now` (pass the
    event's ``time``) decides whether a session change is short notice.
    """
    cfg = TenantConfig.from_mapping(tenant_config)
    effective = merge_event_consent(PatientPrefs.from_mapping(prefs), data)
    planned = []
    for rule in load_rules():
        if rule.event != event_type or (rule.when and not CONDITIONS[rule.when](data, cfg, now)):
            continue
        recipient = _recipient(rule.audience, data, cfg)
        if recipient is None:  # e.g. a self-referred patient has no referrer
            continue
        base = Notification(
            event_type=event_type,
            audience=rule.audience,
            recipient_key=recipient,
            channel=rule.channels[0],
            template=rule.template,
            urgent=_urgent(rule.urgency, data, cfg, now),
            language=_language(rule.audience, effective, cfg),
            timezone=local_timezone(data, cfg),
            quiet_hours=rule.quiet_hours,
        )
        for channel in rule.channels:
            allowed = not rule.needs_consent or effective.allows(channel)
            planned.append(
                replace(
                    base,
                    channel=channel,
                    address=_address(rule.audience, channel, data, cfg),
                    suppressed=None if allowed else SUPPRESSED_BY_CONSENT,
                )
            )
    return planned


def delivery_key(event_source: str, event_id: str, recipient_key: str, channel: str) -> str:
    """The idempotency key of one delivery: hex, no PHI (recipient keys hold emails)."""
    material = "\x1f".join((event_source, event_id, recipient_key, channel)).encode()
    return hashlib.sha256(material).hexdigest()


def send_at(notification: Notification, now: datetime, tenant_config: Any = None) -> datetime:
    """When `notification` may go out: now, or the end of quiet hours at its location."""
    if not notification.quiet_hours:
        return as_utc(now)
    quiet = TenantConfig.from_mapping(tenant_config).quiet_hours
    return _next_allowed_send(now, notification.timezone, quiet, urgent=notification.urgent)


def merge_event_consent(prefs: PatientPrefs, data: Mapping[str, Any]) -> PatientPrefs:
    consent = data.get("consent") or {}
    contact = data.get("patient") or data.get("contact") or {}
    return replace(
        prefs,
        email_ok=bool(consent.get("email", prefs.email_ok)),
        sms_ok=bool(consent.get("sms", prefs.sms_ok)),
        language=prefs.language or contact.get("language") or None,
    )


def normalize_phone(raw: str | None, region: str = "US") -> str | None:
    """E.164 (`+15551234567`) for a valid number, else None."""
    try:
        number = phonenumbers.parse(raw or "", region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _recipient(audience: str, data: Mapping[str, Any], cfg: TenantConfig) -> str | None:
    if audience == "patient":
        return f"patient:{data['patient_id']}"
    if audience == "referrer":
        email = (data.get("referrer") or {}).get("email")
        return f"referrer:{email.strip().lower()}" if email else None
    if audience == "staff":
        return f"staff:{data.get('location_id') or 'all'}"
    return f"partner:{data['partner_id']}"


def _address(audience: str, channel: str, data: Mapping[str, Any], cfg: TenantConfig) -> str | None:
    if audience == "referrer":
        return (data.get("referrer") or {}).get("email")
    if audience == "staff":
        return cfg.staff_emails.get(data.get("location_id") or "*") or cfg.staff_emails.get("*")
    if audience == "partner":
        return cfg.partner_webhooks.get(data["partner_id"])
    contact = data.get("patient") or data.get("contact") or {}
    if channel == "sms":
        return normalize_phone(contact.get("phone"), cfg.phone_region)
    return contact.get("email") or None


def _language(audience: str, prefs: PatientPrefs, cfg: TenantConfig) -> str:
    return (prefs.language if audience == "patient" else None) or cfg.language


def local_timezone(data: Mapping[str, Any], cfg: TenantConfig) -> str:
    """The IANA zone of the event's location: its own `location_tz`, the tenant's map, or default."""
    location_tz = cfg.location_timezones.get(data.get("location_id") or "")
    return data.get("location_tz") or location_tz or cfg.timezone


def _urgent(urgency: str, data: Mapping[str, Any], cfg: TenantConfig, now: datetime | None) -> bool:
    if urgency != "short_notice":
        return urgency == "always"
    now = as_utc(now or datetime.now(UTC))
    starts_at, tz = as_utc(data["starts_at"]), zone(local_timezone(data, cfg))
    if starts_at.astimezone(tz).date() <= now.astimezone(tz).date():
        return True  # the session is today (or already begun)
    return _next_allowed_send(now, tz, cfg.quiet_hours) > starts_at - cfg.short_notice_margin
