"""Tenants (clinic organisations) and their locations, API keys (principals), and partners.

Used by the ops CLI and the admin API. Every change of a principal or a location is saved with
its `access.*` / `tenant.location_upserted` event in the same write, so planning and
notifications keep their replicas (shared/replicas.py) current. Partners are not tenant data: a
partner (referral network, EHR) names the tenants it may refer to, and its AMQP user name is its
id.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from services.intake import events
from services.intake.errors import Conflict, Invalid, NotFound
from services.intake.repository import indexes as storage
from shared.events import outbox
from shared.replicas import LOCATION_UPSERTED, PRINCIPAL_REVOKED, PRINCIPAL_UPSERTED
from shared.tenancy import TenantScoped
from shared.web.auth import ROLES, hash_key, new_key

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
"""Tenant, location and partner ids: they appear in events, URLs, AMQP user names and routing keys."""


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63] or "x"


def _check_slug(path: str, value: str) -> None:
    if not SLUG.match(value):
        raise Invalid.one(
            path, "must be 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit"
        )


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(path: str, timezone: str) -> None:
    if timezone not in _zones():
        raise Invalid.one(path, f"{timezone!r} is not an IANA time zone (e.g. America/New_York)")


# --- tenants and locations -------------------------------------------------------------------


def _location_event(tenant_id: str, location: dict[str, Any]) -> outbox.Outgoing:
    data = {
        "tenant_id": tenant_id,
        **{k: location.get(k) for k in ("location_id", "name", "timezone", "address", "version")},
    }
    return events.internal(LOCATION_UPSERTED, tenant_id, data, subject=location["location_id"])


def _new_location(name: str, timezone: str, address: dict | None, taken: Iterable[str]) -> dict:
    check_timezone("timezone", timezone)
    base, taken = slugify(name), set(taken)
    location_id = (
        base
        if base not in taken
        else next(f"{base}-{n}" for n in range(2, 10_000) if f"{base}-{n}" not in taken)
    )
    return {
        "location_id": location_id,
        "name": name,
        "timezone": timezone,
        "address": address,
        "version": 1,
    }


def create_tenant(
    db: Database, *, name: str, locations: list[tuple[str, str]], tenant_id: str | None = None
) -> dict[str, Any]:
    """A new tenant with its locations, given as (name, IANA time zone)."""
    tenant_id = tenant_id or slugify(name)
    _check_slug("tenant_id", tenant_id)
    made: list[dict] = []
    for location_name, timezone in locations:
        made.append(_new_location(location_name, timezone, None, (m["location_id"] for m in made)))
    now = datetime.now(UTC)
    document = {
        "_id": tenant_id,
        "tenant_id": tenant_id,
        "name": name,
        "locations": made,
        "version": 1,
        "created_at": now,
    }
    try:
        db[storage.TENANTS].insert_one(
            {**document, **outbox.pending([_location_event(tenant_id, m) for m in made])}
        )
    except DuplicateKeyError:
        raise Conflict(f"tenant {tenant_id!r} already exists") from None
    return document


def get_tenant(db: Database, tenant_id: str) -> dict[str, Any]:
    tenant = TenantScoped(db[storage.TENANTS], tenant_id).find_one(
        {"_id": tenant_id}, {"outbox": 0}
    )
    if tenant is None:
        raise NotFound(f"tenant {tenant_id!r}")
    return tenant


def add_location(
    db: Database, tenant_id: str, *, name: str, timezone: str, address: dict | None = None
) -> dict[str, Any]:
    tenant = get_tenant(db, tenant_id)
    location = _new_location(
        name, timezone, address, (m["location_id"] for m in tenant["locations"])
    )
    update = {"$push": {"locations": location}, "$inc": {"version": 1}}
    result = TenantScoped(db[storage.TENANTS], tenant_id).update_one(
        {"_id": tenant_id, "locations.location_id": {"$ne": location["location_id"]}},
        outbox.with_events(update, [_location_event(tenant_id, location)]),
    )
    if not result.matched_count:
        raise Conflict("the location was added concurrently; try again")
    return location


def update_location(
    db: Database,
    tenant_id: str,
    location_id: str,
    *,
    name: str,
    timezone: str,
    address: dict | None = None,
) -> dict[str, Any]:
    check_timezone("timezone", timezone)
    tenant = get_tenant(db, tenant_id)
    current = next((m for m in tenant["locations"] if m["location_id"] == location_id), None)
    if current is None:
        raise NotFound(f"location {location_id!r}")
    location = {
        **current,
        "name": name,
        "timezone": timezone,
        "address": address,
        "version": current["version"] + 1,
    }
    fields = {f"locations.$.{k}": v for k, v in location.items() if k != "location_id"}
    result = TenantScoped(db[storage.TENANTS], tenant_id).update_one(
        {
            "_id": tenant_id,
            "locations": {
                "$elemMatch": {"location_id": location_id, "version": current["version"]}
            },
        },
        outbox.with_events(
            {"$set": fields, "$inc": {"version": 1}}, [_location_event(tenant_id, location)]
        ),
    )
    if not result.matched_count:
        raise Conflict("the location changed concurrently; try again")
    return location


def location_ids(tenant: dict[str, Any]) -> list[str]:
    return [m["location_id"] for m in tenant.get("locations", [])]


# --- API keys (principals) -------------------------------------------------------------------


def _principal_event(document: dict[str, Any]) -> outbox.Outgoing:
    fields = ("key_id", "tenant_id", "role", "name", "locations", "partner_id", "version")
    data = {"key_hash": document["_id"], **{k: document.get(k) for k in fields}}
    return events.internal(
        PRINCIPAL_UPSERTED, document["tenant_id"], data, subject=document["key_id"]
    )


def _check_key_scope(
    db: Database, tenant: dict, role: str, locations: list[str] | None, partner_id: str | None
) -> None:
    if role not in ROLES:
        raise Invalid.one("role", f"must be one of {', '.join(ROLES)}")
    unknown = sorted(set(locations or ()) - set(location_ids(tenant)))
    if unknown:
        raise Invalid.one("locations", f"not locations of this clinic: {', '.join(unknown)}")
    if role == "partner":
        if not partner_id:
            raise Invalid.one("partner_id", "a partner key names its partner")
        if locations is not None:
            raise Invalid.one("locations", "a partner key is not limited to locations")
        found = get_partner(db, partner_id)
        if found is None or tenant["_id"] not in found.get("tenants", []):
            raise Invalid.one("partner_id", f"partner {partner_id!r} may not refer to this clinic")
    elif partner_id:
        raise Invalid.one("partner_id", "only partner keys name a partner")


def create_key(
    db: Database,
    tenant_id: str,
    *,
    role: str,
    name: str,
    locations: list[str] | None = None,
    partner_id: str | None = None,
) -> tuple[dict[str, Any], str]:
    """A new API key: the stored principal (hashed) and the raw key, which is shown only once."""
    tenant = get_tenant(db, tenant_id)
    _check_key_scope(db, tenant, role, locations, partner_id)
    key_id, raw_key = new_key()
    document = {
        "_id": hash_key(raw_key),
        "key_id": key_id,
        "tenant_id": tenant_id,
        "role": role,
        "name": name,
        "locations": None if locations is None else sorted(set(locations)),
        "partner_id": partner_id,
        "version": 1,
        "revoked": False,
        "created_at": datetime.now(UTC),
    }
    db[storage.PRINCIPALS].insert_one({**document, **outbox.pending([_principal_event(document)])})
    return document, raw_key


def list_keys(db: Database, tenant_id: str) -> list[dict[str, Any]]:
    scoped = TenantScoped(db[storage.PRINCIPALS], tenant_id)
    return list(scoped.find({}, {"outbox": 0, "_id": 0}).sort("created_at", 1))


def revoke_key(db: Database, tenant_id: str, key_id: str) -> dict[str, Any]:
    scoped = TenantScoped(db[storage.PRINCIPALS], tenant_id)
    current = scoped.find_one({"key_id": key_id})
    if current is None:
        raise NotFound(f"key {key_id!r}")
    if current.get("revoked"):
        return current
    version = current["version"] + 1
    data = {
        "key_hash": current["_id"],
        "key_id": key_id,
        "tenant_id": tenant_id,
        "version": version,
    }
    event = events.internal(PRINCIPAL_REVOKED, tenant_id, data, subject=key_id)
    scoped.update_one(
        {"_id": current["_id"], "version": current["version"]},
        outbox.with_events({"$set": {"revoked": True, "version": version}}, [event]),
    )
    return {**current, "revoked": True, "version": version}


# --- partners ----------------------------------------------------------------------------------


def create_partner(
    db: Database, *, partner_id: str, name: str, tenants: Iterable[str] = ()
) -> dict[str, Any]:
    """A partner; its status queue is declared by the intake worker (services/intake/partner_queues.py)."""
    _check_slug("partner_id", partner_id)
    tenants = sorted(set(tenants))
    for tenant_id in tenants:
        get_tenant(db, tenant_id)
    document = {
        "_id": partner_id,
        "name": name,
        "tenants": tenants,
        "version": 1,
        "status_queue_declared": False,
        "created_at": datetime.now(UTC),
    }
    try:
        db[storage.PARTNERS].insert_one(document)
    except DuplicateKeyError:
        raise Conflict(f"partner {partner_id!r} already exists") from None
    return document


def get_partner(db: Database, partner_id: str) -> dict[str, Any] | None:
    return db[storage.PARTNERS].find_one({"_id": partner_id})


def set_partner_allowed(
    db: Database, partner_id: str, tenant_id: str, allowed: bool
) -> dict[str, Any]:
    """Allow (or stop) a partner referring to a tenant."""
    get_tenant(db, tenant_id)
    operator = "$addToSet" if allowed else "$pull"
    document = db[storage.PARTNERS].find_one_and_update(
        {"_id": partner_id},
        {operator: {"tenants": tenant_id}, "$inc": {"version": 1}},
        return_document=True,
    )
    if document is None:
        raise NotFound(f"partner {partner_id!r}")
    return document


def partners_of(db: Database, tenant_id: str) -> list[dict[str, Any]]:
    return list(db[storage.PARTNERS].find({"tenants": tenant_id}, {"name": 1}).sort("_id", 1))
