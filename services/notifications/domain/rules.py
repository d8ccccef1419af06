"""Who hears about an event, on which channel, with which template: pure, no I/O.

The table is `rules.json` (data, one row per event x audience); this module reads it, applies
its named conditions and consent, and returns `Notification`s (when each may go out, and the
deliveries they become, is `delivery_plan`'s). A patient message the patient did not consent
to is still returned, marked ``suppressed="consent"``, so the delivery log can say so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from .contacts import PatientPrefs, merge_event_consent, normalize_phone
from .quiet_hours import short_notice
from .tenant_config import TenantConfig

AUDIENCES = ("patient", "referrer", "staff", "partner", "user")
"""`staff` is a clinic's inbox (its settings' `staff_emails`); `user` is one staff member, at
the email their event names (their own account's invitation or password reset)."""
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
    recipient_key: str  # "patient:<id>", "referrer:<email>", "staff:<location|all>", "partner:<id>", "user:<id>"
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


def ruled_event_types() -> frozenset[str]:
    """Every event type a rule names (the internal ones included)."""
    return frozenset(rule.event for rule in load_rules())


def patient_event_types() -> frozenset[str]:
    """The event types a patient may hear about (their planning reads the contact directory)."""
    return frozenset(rule.event for rule in load_rules() if rule.audience == "patient")


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
    cfg = (
        tenant_config
        if isinstance(tenant_config, TenantConfig)
        else TenantConfig.from_mapping(tenant_config)
    )
    stored = prefs if isinstance(prefs, PatientPrefs) else PatientPrefs.from_mapping(prefs)
    effective = merge_event_consent(stored, data)
    allowed = effective.channels()
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
            consented = not rule.needs_consent or channel in allowed
            planned.append(
                replace(
                    base,
                    channel=channel,
                    address=_address(rule.audience, channel, data, cfg),
                    suppressed=None if consented else SUPPRESSED_BY_CONSENT,
                )
            )
    return planned


def _recipient(audience: str, data: Mapping[str, Any], cfg: TenantConfig) -> str | None:
    if audience == "patient":
        return f"patient:{data['patient_id']}"
    if audience == "referrer":
        email = (data.get("referrer") or {}).get("email")
        return f"referrer:{email.strip().lower()}" if email else None
    if audience == "staff":
        return f"staff:{data.get('location_id') or 'all'}"
    if audience == "user":
        return f"user:{data['user_id']}"
    return f"partner:{data['partner_id']}"


def _address(audience: str, channel: str, data: Mapping[str, Any], cfg: TenantConfig) -> str | None:
    if audience == "referrer":
        return (data.get("referrer") or {}).get("email")
    if audience == "staff":
        return cfg.staff_emails.get(data.get("location_id") or "*") or cfg.staff_emails.get("*")
    if audience == "partner":
        return cfg.partner_webhooks.get(data["partner_id"])
    if audience == "user":
        return data.get("email")
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
    return short_notice(
        now or datetime.now(UTC), data["starts_at"], local_timezone(data, cfg), cfg.quiet_hours,
        cfg.short_notice_margin,
    )  # fmt: skip
