"""Clinic rules: the ids of tenants, locations and partners, time zones, locations, API keys.

Pure: each check answers its problem as `{field: [message]}`, empty when all is well (the use
case raises it as `Invalid`). Tenant, location and partner ids appear in events, URLs, AMQP
user names and routing keys, so they are short slugs.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

Problem = dict[str, list[str]]
"""`{field: [message]}`; empty: nothing wrong."""


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63] or "x"


def slug_problem(path: str, value: str) -> Problem:
    if SLUG.match(value):
        return {}
    return {path: ["must be 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit"]}


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_problem(path: str, timezone: str) -> Problem:
    if timezone in _zones():
        return {}
    return {path: [f"{timezone!r} is not an IANA time zone (e.g. America/New_York)"]}


def location_ids(tenant: Mapping[str, Any]) -> list[str]:
    return [m["location_id"] for m in tenant.get("locations", [])]


DEFAULT_REFERRAL_VALIDITY_DAYS = 90
"""How long a referral sent without an end date is valid, from its start, unless the clinic set
its own (`settings.referral_validity_days` on the tenant)."""
VALIDITY_DAYS_RANGE = (1, 366)


def referral_validity_days(tenant: Mapping[str, Any]) -> int:
    settings = tenant.get("settings") or {}
    return int(settings.get("referral_validity_days") or DEFAULT_REFERRAL_VALIDITY_DAYS)


def new_location(
    name: str, timezone: str, address: dict | None, taken: Iterable[str]
) -> dict[str, Any]:
    """A location whose id derives from its name, numbered when the clinic already has it."""
    base, used = slugify(name), set(taken)
    location_id = (
        base
        if base not in used
        else next(f"{base}-{n}" for n in range(2, 10_000) if f"{base}-{n}" not in used)
    )
    return {
        "location_id": location_id,
        "name": name,
        "timezone": timezone,
        "address": address,
        "version": 1,
    }


def named_rooms(rooms: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, str]], Problem]:
    """A location's rooms, in the order given: a room keeps its `room_id`, a new one gets one
    from its name (numbered when the location has it); two rooms of one id or name are a
    problem under `rooms` (a session books a room by its id within its location)."""
    listed = [dict(r) for r in rooms]
    names = [str(r["name"]).strip() for r in listed]
    seen: set[str] = set()
    for name in names:
        if name.casefold() in seen:
            return [], {"rooms": [f"two rooms have the same name, {name!r}: each needs its own"]}
        seen.add(name.casefold())
    kept = [r.get("room_id") for r in listed if r.get("room_id")]
    if len(set(kept)) < len(kept):
        return [], {"rooms": ["two rooms have the same room_id"]}
    used, named = set(kept), []
    for room, name in zip(listed, names, strict=True):
        room_id = room.get("room_id")
        if not room_id:
            base = slugify(name)
            room_id = next(
                c for c in (base, *(f"{base}-{n}" for n in range(2, 10_000))) if c not in used
            )
            used.add(room_id)
        named.append({"room_id": room_id, "name": name})
    return named, {}


def key_scope_problem(
    tenant: Mapping[str, Any],
    roles: Sequence[str],
    role: str,
    locations: Iterable[str] | None,
    partner_id: str | None,
    partner: Mapping[str, Any] | None,
) -> Problem:
    """Why a new API key may not be so: it needs one of `roles`, locations and a partner the
    clinic has (a partner key names a partner allowed to refer to the clinic, and no locations)."""
    if role not in roles:
        return {"role": [f"must be one of {', '.join(roles)}"]}
    unknown = sorted(set(locations or ()) - set(location_ids(tenant)))
    if unknown:
        return {"locations": [f"not locations of this clinic: {', '.join(unknown)}"]}
    if role != "partner":
        return {"partner_id": ["only partner keys name a partner"]} if partner_id else {}
    if not partner_id:
        return {"partner_id": ["a partner key names its partner"]}
    if locations is not None:
        return {"locations": ["a partner key is not limited to locations"]}
    if partner is None or tenant["_id"] not in partner.get("tenants", []):
        return {"partner_id": [f"partner {partner_id!r} may not refer to this clinic"]}
    return {}
