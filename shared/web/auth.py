"""HTTP authentication (bearer API keys and staff access tokens), and authorization by role.

`Authorization: Bearer <token>` carries one of two things, and both give a `Principal` with a
tenant, a role and the locations it may see, so every `requires(...)` and location check is the
same for both:

- an API key (`ck_<key id>_<secret>`), for machine clients: only its SHA-256 is stored (keys are
  long random strings, so a fast hash is enough). Each service looks keys up in its own
  `principals` collection: intake issues keys and owns that data; planning and notifications
  keep a replica fed by intake's `access.*` events (see shared/replicas.py).
- a signed-in person's access token (a JWT, `shared.tokens`), verified with the public keys of
  `AUTH_PUBLIC_PEMS` alone, then checked against the ended sessions and changed users the
  service knows of (`token_state`: the replicas in planning and notifications, intake's own
  records in intake), read through a cache of `TOKEN_STATE_TTL_S`, so a disabled user or an
  ended session stops working within seconds without a database read per request. Its
  principal names the person (actor `user:<user_id>`, `name` in the audit record).
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
from shared.tokens import ENROL_SCOPE, FULL_SCOPE, AccessClaims, InvalidToken, TokenVerifier

ROLES = ("admin", "front_desk", "therapist", "partner")
STAFF_ROLES = ("admin", "front_desk", "therapist")
CACHE_TTL_S = 15.0  # how long a revoked key may still work in one process
MISS_TTL_S = 1.0  # unknown keys: a key issued a moment ago works as soon as its replica lands
TOKEN_STATE_TTL_S = (
    1.0  # how long an ended session or a disabled user may still work in one process
)
TOKEN_KEYS = "token_keys"
"""`app.extensions[TOKEN_KEYS]`: the `shared.tokens.TokenVerifier` of the process's public keys."""
TOKEN_STATE = "token_state"
"""`app.extensions[TOKEN_STATE]`: (db, tenant, user, session) -> `replicas.AccessState`;
`replicas.access_state` unless the service owns the data (intake)."""
ENROL_FIRST = (
    "enrol a second factor first: POST /auth/totp, confirm it with POST /auth/totp/confirm, "
    "then refresh the token"
)


@dataclass(frozen=True)
class Principal:
    key_id: str
    tenant_id: str
    role: str
    name: str
    locations: frozenset[str] | None = None  # None: every location of the tenant
    partner_id: str | None = None
    user_id: str | None = None  # a signed-in person (then key_id is their session id)
    scope: str = FULL_SCOPE  # ENROL_SCOPE: the person may only enrol a second factor

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}" if self.user_id else f"{self.role}:{self.key_id}"

    @property
    def staff_session_id(self) -> str | None:
        return self.key_id if self.user_id else None

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


def principal_from_claims(claims: AccessClaims) -> Principal:
    return Principal(
        key_id=claims.staff_session_id,
        tenant_id=claims.tenant_id,
        role=claims.role,
        name=claims.name,
        locations=None if claims.locations is None else frozenset(claims.locations),
        user_id=claims.user_id,
        scope=claims.scope,
    )


def _load_principal(key_hash: str) -> Principal | None:
    document = replicas.find_principal(current_app.extensions["mongo"].db, key_hash)
    return principal_from_document(document) if document else None


_principals = TtlCache(_load_principal, CACHE_TTL_S, miss_ttl_s=MISS_TTL_S)


def _load_state(key: tuple[str, str, str, str]) -> replicas.AccessState:
    _, tenant_id, user_id, staff_session_id = key
    read = current_app.extensions.get(TOKEN_STATE, replicas.access_state)
    return read(current_app.extensions["mongo"].db, tenant_id, user_id, staff_session_id)


_token_states = TtlCache(_load_state, TOKEN_STATE_TTL_S)


def authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 4000:
        abort(
            401, message="a bearer API key or access token is required (Authorization: Bearer ...)"
        )
    if not token.startswith("ck_"):
        return _person(token)
    principal = _principals.get(hash_key(token)) if len(token) <= 200 else None
    if principal is None:
        abort(401, message="unknown or revoked API key")
    assert principal is not None  # abort() raised
    return principal


def _person(token: str) -> Principal:
    """The principal of a signed-in person's access token, unless it is no longer good."""
    verifier = current_app.extensions.get(TOKEN_KEYS) or TokenVerifier({})
    try:
        claims = verifier.verify(token)
    except InvalidToken as error:
        abort(401, message=str(error))
    db_name = current_app.config["SETTINGS"].mongo_db  # one cache, several apps in tests
    state = _token_states.get((db_name, claims.tenant_id, claims.user_id, claims.staff_session_id))
    if refusal := state.refusal(claims.version):
        abort(401, message=refusal)
    return principal_from_claims(claims)


def requires(*roles: str) -> Callable:
    """Decorate a view method: authenticate, check the role, and expose the principal as `g.principal`."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {unknown}")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            if principal.scope == ENROL_SCOPE:
                abort(403, message=ENROL_FIRST)
            if principal.role not in roles:
                abort(403, message=f"the {principal.role} role may not do this")
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper

    return decorate


def requires_person(view: Callable) -> Callable:
    """Decorate a view about the signed-in person themselves (their account, second factor,
    session): any role, also while they must still enrol a second factor; never an API key."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        principal = authenticate()
        if principal.user_id is None:
            abort(403, message="only a signed-in person may do this, not an API key")
        g.principal = principal
        return view(*args, **kwargs)

    return wrapper


def current_principal() -> Principal:
    return g.principal


def clear_cache() -> None:
    _principals.forget()
    _token_states.forget()


SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key, for machine clients: `Authorization: Bearer ck_...`",
}
TOKEN_SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "A signed-in person's access token (`POST /auth/sign-in` of intake; EdDSA, "
    "a few minutes; renew it with `POST /auth/refresh`): `Authorization: Bearer eyJ...`",
}
