"""What the notifications tests share: events as intake and planning publish them, a settable
clock, and a publisher playing the other services' part."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kombu import Connection

from shared.config import Settings
from shared.events import Event, new_event, topology
from shared.events.catalog import exchange_of
from shared.events.publisher import ConfirmedPublisher
from shared.web.auth import hash_key, new_key

TENANT = "clinic-north"
SOURCES = {"intake.events": "clinic/intake", "planning.events": "clinic/planning"}


# --- time ------------------------------------------------------------------------------------


class FixedClock:
    """A clock that shows `now` until told otherwise (quiet hours, reminders, backoff)."""

    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)


# --- events as intake and planning publish them ----------------------------------------------


def event(type_: str, data: dict[str, Any], *, tenant: str = TENANT, id: str | None = None):
    return new_event(type_, source=SOURCES[exchange_of(type_)], tenant_id=tenant, data=data, id=id)


def referral_accepted(
    patient_id: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    consent: tuple[str, ...] = ("email",),
    referrer_email: str | None = "dr.lee@practice.example",
    location_id: str = "loc-1",
    language: str = "en",
    tenant: str = TENANT,
) -> Event:
    return event(
        "referral.accepted",
        {
            "referral_id": f"ref-{patient_id}", "partner_id": None,
            "partner_referral_id": f"REF-{patient_id}", "patient_id": patient_id,
            "location_id": location_id,
            "priority": "routine", "diagnoses": [{"code": "M54.2", "display": "Cervicalgia"}],
            "authorized_visits": 8, "valid_from": "2026-01-01", "expires_on": "2027-01-01",
            "body_sites": ["neck"],
            "referrer": {
                "name": "Dr. Ada Lee", "email": referrer_email, "phone": None,
                "organization": "Lee Practice",
            } if referrer_email else None,
            "patient": {
                "given_name": "Maria", "family_name": "Lopez", "email": email, "phone": phone,
                "language": language, "birth_date": "1980-02-29",
            },
            "consent": {"email": "email" in consent, "sms": "sms" in consent},
            "intake_link": f"https://intake.example/forms/{patient_id}-token",
            "version": 1,
        },
        tenant=tenant,
    )  # fmt: skip


def session_event(
    type_: str,
    session_id: str,
    patient_id: str,
    starts_at: datetime,
    *,
    location_tz: str = "America/New_York",
    cancelled_by: str | None = None,
    booked_by: str = "staff",
    tenant: str = TENANT,
) -> Event:
    return event(
        type_,
        {
            "plan_id": "plan-1", "referral_id": f"ref-{patient_id}", "patient_id": patient_id,
            "location_id": "loc-1", "session_id": session_id, "therapist_id": "th-1",
            "room_id": "room-1", "starts_at": starts_at.astimezone(UTC).isoformat(),
            "duration_minutes": 60, "location_name": "Downtown Studio",
            "location_tz": location_tz, "cancelled_by": cancelled_by, "booked_by": booked_by,
        },
        tenant=tenant,
    )  # fmt: skip


def staff_key(
    role: str = "admin",
    *,
    tenant: str = TENANT,
    locations: list[str] | None = None,
    version: int = 1,
) -> tuple[str, Event]:
    """A raw API key and the `access.principal_upserted` event that makes it valid here."""
    key_id, raw = new_key()
    upserted = event(
        "access.principal_upserted",
        {
            "key_hash": hash_key(raw), "key_id": key_id, "tenant_id": tenant, "role": role,
            "name": f"{role} of {tenant}", "locations": locations, "partner_id": None,
            "version": version,
        },
        tenant=tenant,
    )  # fmt: skip
    return raw, upserted


def location_upserted(location_id: str, timezone: str, *, tenant: str = TENANT) -> Event:
    return event(
        "tenant.location_upserted",
        {
            "tenant_id": tenant, "location_id": location_id, "name": location_id,
            "timezone": timezone, "address": None, "version": 1,
        },
        tenant=tenant,
    )  # fmt: skip


@dataclass
class OtherServices:
    """Publishes events as intake and planning would: confirmed, to their exchanges."""

    settings: Settings
    published: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        with Connection(self.settings.amqp_url) as conn:
            topology.declare(conn, publishes_to=list(SOURCES))
        self.publisher = ConfirmedPublisher(self.settings)

    def publish(self, *events: Event) -> None:
        for item in events:
            self.publisher.publish(
                exchange_of(item.type), item.type, item.to_json(), message_id=item.id
            )
            self.published.append(item)

    def close(self) -> None:
        self.publisher.close()
