"""Replicas of intake's access data (API keys, staff users' access, clinic locations) in other services.

Intake owns tenants, locations, API keys, staff users and their sessions; it emits
`access.principal_upserted`, `access.principal_revoked`, `tenant.location_upserted`,
`access.user_updated` (a user disabled, or their role or locations changed: tokens of an older
version are refused) and `access.session_ended` (a sign-out, or a stolen refresh token seen).
Planning and notifications apply them to their own `principals`, `locations` and `revocations`
collections with `replica_handlers`, and read them with `find_location`, `locations_of`,
`find_principal` and `access_state` (nothing else reads those collections). Each event carries
a `version` (an ended session is final); an older version never overwrites a newer one, so
redelivery and reordering are harmless. An ended session's entry expires (TTL index) once every
token of the session has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
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
USER_UPDATED = "access.user_updated"
SESSION_ENDED = "access.session_ended"
ACCESS_EVENT_TYPES = (
    PRINCIPAL_UPSERTED,
    PRINCIPAL_REVOKED,
    LOCATION_UPSERTED,
    USER_UPDATED,
    SESSION_ENDED,
)


PRINCIPALS = "principals"
LOCATIONS = "locations"
REVOCATIONS = "revocations"
INDEXES = {
    LOCATIONS: [
        IndexModel([("tenant_id", ASCENDING), ("location_id", ASCENDING)], name="tenant_location")
    ],
    PRINCIPALS: [],
    REVOCATIONS: [IndexModel([("expires_at", ASCENDING)], name="expires", expireAfterSeconds=0)],
}
"""The replicas' indexes (principals are found by `_id`, the key's hash; revocations by `_id`
too: `user:<tenant>/<user>` and `session:<session>`; a tenant's locations in `location_id`
order, `locations_of`)."""
RETIRED_INDEXES = {LOCATIONS: ("tenant",)}
"""Replica indexes an older version created (`tenant`: served the filter, not the sort)."""


@dataclass(frozen=True)
class AccessState:
    """What a service knows of a signed-in person's session and account, for their token."""

    session_ended: bool = False
    user_disabled: bool = False
    user_version: int = 0
    """The version of the user's latest access change: a token of an older one is refused."""

    def refusal(self, token_version: int) -> str | None:
        """Why a token of `token_version` may not be used any more, or None."""
        if self.user_disabled:
            return "this account is disabled"
        if self.session_ended:
            return "this session has ended: sign in again"
        if token_version < self.user_version:
            return "the account changed since this token was issued: refresh it"
        return None


@dataclass(frozen=True)
class Location:
    location_id: str
    name: str
    timezone: str
    address: dict[str, Any] | None = None
    room_ids: tuple[str, ...] | None = None
    """The ids of its rooms; None: not known here (the replica came from an event before rooms)."""


def location_key(tenant_id: str, location_id: str) -> str:
    """The `_id` of a location replica: location ids are unique within a tenant only."""
    return f"{tenant_id}/{location_id}"


def upsert_versioned(
    collection: Collection, _id: str, fields: Mapping[str, Any], version: int
) -> bool:
    """Apply `fields` (which name the tenant) if `version` is newer than what is stored; False
    for a stale or repeated event, and for an `_id` another tenant's document holds."""
    scoped = TenantScoped(collection, fields["tenant_id"])
    changes = {key: value for key, value in fields.items() if key != "tenant_id"}
    try:
        result = scoped.update_one(
            {"_id": _id, "$or": [{"version": {"$lt": version}}, {"version": {"$exists": False}}]},
            {"$set": {**changes, "version": version}},
            upsert=True,
        )
    except DuplicateKeyError:  # the stored version is the same or newer
        return False
    return bool(result.modified_count or result.upserted_id)


def replica_handlers(
    principals: Collection, locations: Collection, revocations: Collection
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
        rooms = data.get("rooms")
        fields["room_ids"] = None if rooms is None else [r["room_id"] for r in rooms]
        return upsert_versioned(
            locations, location_key(data["tenant_id"], data["location_id"]), fields, data["version"]
        )

    return {
        PRINCIPAL_UPSERTED: on_principal,
        PRINCIPAL_REVOKED: on_revoked,
        LOCATION_UPSERTED: on_location,
        **revocation_handlers(revocations),
    }


def revocation_handlers(revocations: Collection) -> dict[str, Callable[[Event], bool]]:
    def on_user(event: Event) -> bool:
        data = event.data
        fields = {k: data[k] for k in ("tenant_id", "user_id", "status")}
        return upsert_versioned(
            revocations, user_key(data["tenant_id"], data["user_id"]), fields, data["version"]
        )

    def on_session_ended(event: Event) -> bool:
        data = event.data
        fields = {
            "user_id": data["user_id"],
            "expires_at": datetime.fromisoformat(data["expires_at"]),
        }
        try:
            result = TenantScoped(revocations, data["tenant_id"]).update_one(
                {"_id": session_key(data["staff_session_id"])},
                {"$setOnInsert": fields},
                upsert=True,
            )
        except DuplicateKeyError:  # a concurrent copy of the same event
            return False
        return result.upserted_id is not None

    return {USER_UPDATED: on_user, SESSION_ENDED: on_session_ended}


def user_key(tenant_id: str, user_id: str) -> str:
    return f"user:{tenant_id}/{user_id}"


def session_key(staff_session_id: str) -> str:
    return f"session:{staff_session_id}"


def _location(document: Mapping[str, Any]) -> Location:
    return Location(
        document["location_id"],
        document.get("name") or document["location_id"],
        document.get("timezone") or "UTC",
        document.get("address"),
        None if document.get("room_ids") is None else tuple(document["room_ids"]),
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


def access_state(db: Database, tenant_id: str, user_id: str, staff_session_id: str) -> AccessState:
    """What the replica knows of the person's session and account (one read)."""
    keys = [user_key(tenant_id, user_id), session_key(staff_session_id)]
    found = {
        d["_id"]: d for d in TenantScoped(db[REVOCATIONS], tenant_id).find({"_id": {"$in": keys}})
    }
    user = found.get(keys[0]) or {}
    return AccessState(
        session_ended=keys[1] in found,
        user_disabled=user.get("status") == "disabled",
        user_version=int(user.get("version") or 0),
    )
