"""HTTP authentication by bearer API keys, and authorization by role and location.

A key is `ck_<key id>_<secret>`; only its SHA-256 is stored (keys are long random strings, so a
fast hash is enough). Each service looks keys up in its own `principals` collection: intake
issues keys and owns that data; planning and notifications keep a replica fed by intake's
`access.*` events (see shared/replicas.py).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request
from flask_smorest import abort

from shared import replicas
from shared.cache import TtlCache

ROLES = ("admin", "front_desk", "therapist", "partner")
STAFF_ROLES = ("admin", "front_desk", "therapist")
CACHE_TTL_S = 15.0  # how long a revoked key may still work in one process
MISS_TTL_S = 1.0  # unknown keys: a key issued a moment ago works as soon as its replica lands


@dataclass(frozen=True)
class Principal:
    key_id: str
    tenant_id: str
    role: str
    name: str
    locations: frozenset[str] | None = None  # None: every location of the tenant
    partner_id: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.key_id}"

    def may_see_location(self, location_id: str | None) -> bool:
        return self.locations is None or location_id in self.locations


def system_principal(service: str, tenant_id: str) -> Principal:
    """A service itself, acting for a clinic (a consumer applying an event): actor `system:<service>`."""
    return Principal(key_id=service, tenant_id=tenant_id, role="system", name=service)


def new_key() -> tuple[str, str]:
    """A new key id and the raw key (shown once, never stored)."""
    key_id = secrets.token_hex(6)
    return key_id, f"ck_{key_id}_{secrets.token_urlsafe(32)}"


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def principal_from_document(document: dict[str, Any]) -> Principal:
    locations = document.get("locations")
    return Principal(
        key_id=document["key_id"],
        tenant_id=document["tenant_id"],
        role=document["role"],
        name=document.get("name", ""),
        partner_id=document.get("partner_id"),
        locations=None if locations is None else frozenset(locations),
    )


def _load_principal(key_hash: str) -> Principal | None:
    document = replicas.find_principal(current_app.extensions["mongo"].db, key_hash)
    return principal_from_document(document) if document else None


_principals = TtlCache(_load_principal, CACHE_TTL_S, miss_ttl_s=MISS_TTL_S)


def authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.startswith("ck_") or len(token) > 200:
        abort(401, message="a bearer API key is required (Authorization: Bearer ck_...)")
    principal = _principals.get(hash_key(token.strip()))
    if principal is None:
        abort(401, message="unknown or revoked API key")
    assert principal is not None  # abort() raised
    return principal


def requires(*roles: str) -> Callable:
    """Decorate a view method: authenticate, check the role, and expose the principal as `g.principal`."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {unknown}")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            if principal.role not in roles:
                abort(403, message=f"the {principal.role} role may not do this")
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper

    return decorate


def current_principal() -> Principal:
    return g.principal


def clear_cache() -> None:
    _principals.forget()


SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key: `Authorization: Bearer ck_...`",
}
