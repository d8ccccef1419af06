"""Test data for planning: intake's events (as docs/events.md describes them) and API keys.

Tests play intake's part: they build its events with `new_event(..., source="clinic/intake")`
and either hand them to planning's handlers or publish them to `intake.events`.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo.database import Database

from shared.events import Event, new_event
from shared.replicas import location_key
from shared.web.auth import hash_key, new_key
from testkit.staff import bearer  # noqa: F401 (tests call data.bearer)

INTAKE_SOURCE = "clinic/intake"
TENANT = "clinic-north"
OTHER_TENANT = "clinic-south"
LOCATION = "loc-downtown"
LOCATION_TZ = "America/New_York"


def intake_event(type_: str, data: dict[str, Any], tenant_id: str = TENANT) -> Event:
    return new_event(type_, source=INTAKE_SOURCE, tenant_id=tenant_id, data=data)


def set_path(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with dotted paths ("screening.outcome") set."""
    data = copy.deepcopy(data)
    for path, value in changes.items():
        *parents, last = path.split(".")
        target = data
        for key in parents:
            target = target[key]
        target[last] = value
    return data


def intake_completed(referral_id: str | None = None, **changes: Any) -> dict[str, Any]:
    """`intake.completed` data: low back pain, NPRS 7 and ODI 40, 8 visits over ~3 months."""
    today = date.today()
    data = {
        "intake_id": f"int-{uuid.uuid4().hex[:8]}",
        "referral_id": referral_id or f"ref-{uuid.uuid4().hex[:8]}",
        "patient_id": f"pat-{uuid.uuid4().hex[:8]}",
        "location_id": LOCATION,
        "completed_by": "patient",
        "screening": {
            "outcome": "clear",
            "reasons": [],
            "excluded_areas": [],
            "modifications": [],
            "requires_clearance_for": [],
        },
        "baseline": [{"measure": "NPRS", "score": 7}, {"measure": "ODI", "score": 40}],
        "referral": {
            "authorized_visits": 8,
            "valid_from": (today - timedelta(days=7)).isoformat(),
            "expires_on": (today + timedelta(days=90)).isoformat(),
            "diagnoses": [{"code": "M54.50", "display": "Low back pain, unspecified"}],
            "body_sites": ["lower back"],
            "referrer": {"name": "Dr. Ada Reyes", "email": "ada.reyes@example.org"},
        },
        "body_areas": ["lower back"],
        "completed_at": datetime.now(UTC).isoformat(),
    }
    return set_path(data, changes)


def reason(rule_id: str, tier: str) -> dict[str, str]:
    return {"rule_id": rule_id, "tier": tier, "label": rule_id.replace("_", " "), "detail": ""}


def needs_clearance(referral_id: str | None = None, **changes: Any) -> dict[str, Any]:
    holds = {
        "screening.outcome": "needs_clearance",
        "screening.reasons": [reason("heart_disease", "clearance")],
        "screening.requires_clearance_for": ["heart_disease"],
    }
    return intake_completed(referral_id, **{**holds, **changes})


def blocked(referral_id: str | None = None) -> dict[str, Any]:
    return intake_completed(
        referral_id,
        **{
            "screening.outcome": "blocked",
            "screening.reasons": [reason("suspected_dvt", "absolute")],
        },
    )


def screening_updated(intake: dict[str, Any], rule_ids: list[str]) -> dict[str, Any]:
    """The intake after a physician cleared ``rule_ids`` (as intake sends it)."""
    remaining = [r for r in intake["screening"]["reasons"] if r["rule_id"] not in rule_ids]
    holds = [r for r in remaining if r["tier"] == "clearance"]
    outcome = "needs_clearance" if holds else "clear"
    return set_path(
        intake,
        {
            "screening.outcome": outcome,
            "screening.reasons": remaining,
            "clearance": {
                "by": "Dr. Ada Reyes",
                "at": datetime.now(UTC).isoformat(),
                "note": "cleared for massage",
                "rule_ids": rule_ids,
            },
        },
    )


def location_upserted(
    location_id: str = LOCATION,
    tz: str = LOCATION_TZ,
    tenant_id: str = TENANT,
    version: int = 1,
    rooms: list[str] | None = None,
) -> Event:
    """Intake's event; `rooms` (ids, named alike) as it sends them now, None as it did before."""
    data: dict[str, Any] = {
        "tenant_id": tenant_id,
        "location_id": location_id,
        "name": f"Clinic {location_id}",
        "timezone": tz,
        "address": "1 Main St",
        "version": version,
    }
    if rooms is not None:
        data["rooms"] = [{"room_id": r, "name": r} for r in rooms]
    return intake_event("tenant.location_upserted", data, tenant_id)


def new_principal(
    role: str, tenant_id: str = TENANT, locations: list[str] | None = None
) -> tuple[str, dict[str, Any]]:
    """A new raw API key and its principal's fields (by `key_hash`), as intake sends them."""
    key_id, raw = new_key()
    principal = {
        "key_hash": hash_key(raw),
        "key_id": key_id,
        "tenant_id": tenant_id,
        "role": role,
        "name": f"{role} {key_id}",
        "locations": locations,
        "partner_id": None,
    }
    return raw, principal


def principal_upserted(
    role: str, tenant_id: str = TENANT, locations: list[str] | None = None
) -> tuple[str, Event]:
    """A new API key (raw) and the event that makes planning know it."""
    raw, principal = new_principal(role, tenant_id, locations)
    data = {**principal, "version": 1}
    return raw, intake_event("access.principal_upserted", data, tenant_id)


def insert_key(
    db: Database, role: str, tenant_id: str = TENANT, locations: list[str] | None = None
) -> str:
    """Store a principal in planning's replica directly; return the raw key."""
    raw, principal = new_principal(role, tenant_id, locations)
    db.principals.insert_one({"_id": principal.pop("key_hash"), **principal, "revoked": False})
    return raw


def insert_location(
    db: Database, location_id: str = LOCATION, tz: str = LOCATION_TZ, tenant_id: str = TENANT
) -> None:
    db.locations.insert_one(
        {
            "_id": location_key(tenant_id, location_id),
            "location_id": location_id,
            "tenant_id": tenant_id,
            "name": f"Clinic {location_id}",
            "timezone": tz,
            "address": "1 Main St",
            "version": 1,
        }
    )
