"""Tenants (clinic organisations) and their locations: the ops CLI makes tenants, admins locations.

Every change of a location is saved with its `tenant.location_upserted` event in the same write,
so planning and notifications keep their replicas (shared/replicas.py) current. These use cases
take the tenant id rather than a principal: the ops CLI, which spans tenants, calls them too.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from services.intake import events
from services.intake.bootstrap import Deps
from services.intake.domain.clinic import (
    location_ids,
    named_rooms,
    new_location,
    slug_problem,
    slugify,
    timezone_problem,
)
from services.intake.domain.staff_users import SignInPolicy
from services.intake.repository.tenants import Tenants
from shared.errors import Conflict, Invalid, NotFound
from shared.retry import retry_on_conflict


def create_tenant(
    deps: Deps, *, name: str, locations: list[tuple[str, str]], tenant_id: str | None = None
) -> dict[str, Any]:
    """A new tenant with its locations, given as (name, IANA time zone)."""
    tenant_id = tenant_id or slugify(name)
    if problem := slug_problem("tenant_id", tenant_id):
        raise Invalid(problem)
    made: list[dict] = []
    for location_name, timezone in locations:
        if problem := timezone_problem("timezone", timezone):
            raise Invalid(problem)
        made.append(new_location(location_name, timezone, None, (m["location_id"] for m in made)))
    document = {
        "_id": tenant_id,
        "tenant_id": tenant_id,
        "name": name,
        "locations": made,
        "version": 1,
        "created_at": deps.clock(),
    }
    upserted = [events.location_upserted(tenant_id, m) for m in made]
    if not Tenants(deps.db, tenant_id).insert(document, upserted):
        raise Conflict(f"tenant {tenant_id!r} already exists")
    return document


def get_tenant(deps: Deps, tenant_id: str) -> dict[str, Any]:
    tenant = Tenants(deps.db, tenant_id).get()
    if tenant is None:
        raise NotFound(f"no tenant {tenant_id!r}")
    return tenant


def add_location(
    deps: Deps,
    tenant_id: str,
    *,
    name: str,
    timezone: str,
    address: dict | None = None,
    rooms: list[dict] | None = None,
) -> dict[str, Any]:
    """A new location (its id derived from the name), with its rooms; emits
    `tenant.location_upserted`."""
    named, rooms_problem = named_rooms(rooms or [])
    if problem := timezone_problem("timezone", timezone) or rooms_problem:
        raise Invalid(problem)
    tenants = Tenants(deps.db, tenant_id)

    def attempt() -> dict[str, Any] | None:
        taken = location_ids(get_tenant(deps, tenant_id))
        location = {**new_location(name, timezone, address, taken), "rooms": named}
        added = tenants.add_location(location, [events.location_upserted(tenant_id, location)])
        return location if added else None

    return retry_on_conflict(attempt, what=f"tenant {tenant_id!r}")


def update_location(
    deps: Deps,
    tenant_id: str,
    location_id: str,
    *,
    name: str,
    timezone: str,
    address: dict | None = None,
    rooms: list[dict] | None = None,
) -> dict[str, Any]:
    """Rename a location, or change its time zone, address or rooms (None: as they are);
    emits `tenant.location_upserted`."""
    named, rooms_problem = named_rooms(rooms or [])
    if problem := timezone_problem("timezone", timezone) or rooms_problem:
        raise Invalid(problem)
    tenants = Tenants(deps.db, tenant_id)

    def attempt() -> dict[str, Any] | None:
        tenant = get_tenant(deps, tenant_id)
        current = next((m for m in tenant["locations"] if m["location_id"] == location_id), None)
        if current is None:
            raise NotFound(f"no location {location_id!r}")
        changes = {"name": name, "timezone": timezone, "address": address}
        if rooms is not None:
            changes["rooms"] = named
        location = {**current, **changes, "version": current["version"] + 1}
        event = events.location_upserted(tenant_id, location)
        return location if tenants.replace_location(location, current["version"], [event]) else None

    return retry_on_conflict(attempt, what=f"location {location_id!r}")


def update_settings(
    deps: Deps, tenant_id: str, *, version: int, settings: dict[str, Any]
) -> dict[str, Any]:
    """Change the clinic's settings (e.g. `referral_validity_days`) at the version read."""
    tenant = get_tenant(deps, tenant_id)
    if tenant["version"] != version:
        raise Conflict(f"the tenant is at version {tenant['version']}, not {version}; reload it")
    merged = {**(tenant.get("settings") or {}), **settings}
    if not Tenants(deps.db, tenant_id).set_settings(merged, version):
        raise Conflict("the tenant changed meanwhile; reload it")
    return {**tenant, "settings": merged, "version": version + 1}


def sign_in_policy(deps: Deps, tenant_id: str) -> dict[str, Any]:
    """How the clinic's staff sign in: a second factor for everyone or not, the idle timeout."""
    return asdict(SignInPolicy.of(get_tenant(deps, tenant_id)))


def set_sign_in_policy(
    deps: Deps, tenant_id: str, *, require_totp: bool, session_idle_minutes: int
) -> dict[str, Any]:
    """Applies at each session's next refresh (a second factor asked, the idle timeout)."""
    policy = SignInPolicy(require_totp, session_idle_minutes)
    if not Tenants(deps.db, tenant_id).set_sign_in(asdict(policy)):
        raise NotFound(f"no tenant {tenant_id!r}")
    return asdict(policy)
