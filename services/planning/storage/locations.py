"""Clinic locations, read from the replica of intake's `tenant.location_upserted` events."""

from __future__ import annotations

from dataclasses import dataclass

from pymongo.database import Database

from shared.replicas import location_key
from shared.tenancy import TenantScoped


@dataclass(frozen=True)
class Location:
    location_id: str
    name: str
    timezone: str


def find_location(db: Database, tenant_id: str, location_id: str) -> Location | None:
    """The tenant's location, or None (unknown, or another tenant's)."""
    document = TenantScoped(db.locations, tenant_id).find_one(
        {"_id": location_key(tenant_id, location_id)}
    )
    if document is None:
        return None
    return Location(
        location_id, document.get("name") or location_id, document.get("timezone") or "UTC"
    )
