"""Replicas of intake's access data (API key principals and clinic locations) in other services.

Intake owns tenants, locations and API keys; it emits `access.principal_upserted`,
`access.principal_revoked` and `tenant.location_upserted`. Planning and notifications apply
them to their own `principals` and `locations` collections with `replica_handlers`, and read
them with `find_location`, `locations_of` and `find_principal` (nothing else reads those
collections). Each event carries a `version`; an older version never overwrites a newer one,
so redelivery and reordering are harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared.events import Event
from shared.tenancy import TenantScoped

PRINCIPAL_UPSERTED = "access.principal_upserted"
PRINCIPAL_REVOKED = "access.principal_revoked"
LOCATION_UPSERTED = "tenant.location_upserted"
ACCESS_EVENT_TYPES = (PRINCIPAL_UPSERTED, PRINCIPAL_REVOKED, LOCATION_UPSERTED)


PRINCIPALS = "principals"
LOCATIONS = "locations"
INDEXES = {LOCATIONS: [IndexModel([("tenant_id", ASCENDING)], name="tenant")], PRINCIPALS: []}
"""The replicas' indexes (principals are found by `_id`, the key's hash)."""


@dataclass(frozen=True)
class Location:
    location_id: str
    name: str
    timezone: str
    address: dict[str, Any] | None = None


def location_key(tenant_id: str, location_id: str) -> str:
    """The `_id` of a location replica: location ids are unique within a tenant only."""
    return f"{tenant_id}/{location_id}"


def upsert_versioned(
    collection: Collection, _id: str, fields: Mapping[str, Any], version: int
) -> bool:
    """Apply `fields` if `version` is newer than what is stored; False for a stale or repeated event."""
    try:
        result = collection.update_one(
            {"_id": _id, "$or": [{"version": {"$lt": version}}, {"version": {"$exists": False}}]},
            {"$set": {**fields, "version": version}},
            upsert=True,
        )
    except DuplicateKeyError:  # the stored version is the same or newer
        return False
    return bool(result.modified_count or result.upserted_id)


def replica_handlers(
    principals: Collection, locations: Collection
) -> dict[str, Callable[[Event], bool]]:
    def on_principal(event: Event) -> bool:
        data = event.data
        fields = {
            k: data.get(k)
            for k in ("key_id", "tenant_id", "role", "name", "locations", "partner_id")
        }
        return upsert_versioned(
            principals, data["key_hash"], {**fields, "revoked": False}, data["version"]
        )

    def on_revoked(event: Event) -> bool:
        data = event.data
        return upsert_versioned(
            principals,
            data["key_hash"],
            {"revoked": True, "tenant_id": data["tenant_id"], "key_id": data["key_id"]},
            data["version"],
        )

    def on_location(event: Event) -> bool:
        data = event.data
        fields = {
            k: data.get(k) for k in ("tenant_id", "location_id", "name", "timezone", "address")
        }
        return upsert_versioned(
            locations, location_key(data["tenant_id"], data["location_id"]), fields, data["version"]
        )

    return {
        PRINCIPAL_UPSERTED: on_principal,
        PRINCIPAL_REVOKED: on_revoked,
        LOCATION_UPSERTED: on_location,
    }


def _location(document: Mapping[str, Any]) -> Location:
    return Location(
        document["location_id"],
        document.get("name") or document["location_id"],
        document.get("timezone") or "UTC",
        document.get("address"),
    )


def find_location(db: Database, tenant_id: str, location_id: str) -> Location | None:
    """The tenant's location, or None (unknown, or another tenant's)."""
    document = TenantScoped(db[LOCATIONS], tenant_id).find_one(
        {"_id": location_key(tenant_id, location_id)}
    )
    return _location(document) if document else None


def locations_of(db: Database, tenant_id: str) -> list[Location]:
    """Every location of the tenant known here, by id."""
    rows = TenantScoped(db[LOCATIONS], tenant_id).find({}).sort("location_id", 1)
    return [_location(row) for row in rows]


def find_principal(db: Database, key_hash: str) -> dict[str, Any] | None:
    """The API key's principal document, unless revoked (auth turns it into a Principal)."""
    return db[PRINCIPALS].find_one({"_id": key_hash, "revoked": {"$ne": True}})
