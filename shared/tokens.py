"""Staff access tokens: the claims every service reads, signed by intake (EdDSA, Ed25519).

A token is a JWT (RFC 7519, `typ: at+jwt`) whose header names its key (`kid`, see
`shared.token_keys`), carrying who (`sub` the user id, `name`), where (`tenant`, `locations`:
a list, or null for every location), as what (`role`), in which session (`sid`), at which
version of the user (`ver`: a token older than the user's latest access change is refused by
the replicas, `shared.replicas`), for what (`scope`: `all`, or `enrol_totp` for a person who
must enrol a second factor first), and `iat`, `exp`, `iss`, `aud`. No shared secret: a service
verifies it with the public keys alone, and asks no one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.cache import TtlCache
from shared.token_keys import SigningKey

ISSUER = "clinic/intake"
AUDIENCE = "clinic"
ALGORITHM = "EdDSA"
TYPE = "at+jwt"
FULL_SCOPE = "all"
ENROL_SCOPE = "enrol_totp"
SCOPES = (FULL_SCOPE, ENROL_SCOPE)
LEEWAY_S = 5
"""Clock difference tolerated between intake and a verifying service."""
REQUIRED = ("exp", "iat", "iss", "aud", "sub", "sid", "tenant", "role", "ver", "scope")
VERIFIED_TTL_S = 30.0
"""How long a process reuses a token's verified signature (its expiry is checked at every use)."""


class InvalidToken(Exception):
    """The token cannot be used; the message says why (it names no secret)."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    tenant_id: str
    role: str
    name: str
    locations: tuple[str, ...] | None
    staff_session_id: str
    version: int
    scope: str
    issued_at: int
    expires_at: int

    def to_payload(self) -> dict[str, Any]:
        return {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": self.user_id,
            "tenant": self.tenant_id,
            "role": self.role,
            "name": self.name,
            "locations": None if self.locations is None else list(self.locations),
            "sid": self.staff_session_id,
            "ver": self.version,
            "scope": self.scope,
            "iat": self.issued_at,
            "exp": self.expires_at,
        }


def sign(claims: AccessClaims, key: SigningKey) -> str:
    return jwt.encode(
        claims.to_payload(),
        key.private_key,
        algorithm=ALGORITHM,
        headers={"kid": key.kid, "typ": TYPE},
    )


def verify(token: str, keys: Mapping[str, Ed25519PublicKey]) -> AccessClaims:
    """The token's claims, if one of `keys` signed it and it is current; else `InvalidToken`."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise InvalidToken("not a well-formed token") from None
    key = keys.get(str(header.get("kid")))
    if key is None or header.get("typ") != TYPE:
        raise InvalidToken("the token is not signed by a key this service knows")
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY_S,
            options={"require": list(REQUIRED)},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired: refresh it") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("the token's signature or claims are not valid") from None
    return _claims(payload)


def _claims(payload: Mapping[str, Any]) -> AccessClaims:
    locations = payload.get("locations")
    texts = ("sub", "tenant", "role", "sid", "scope")
    if (
        not all(isinstance(payload[k], str) and payload[k] for k in texts)
        or payload["scope"] not in SCOPES
        or not isinstance(payload["ver"], int)
        or not (locations is None or isinstance(locations, list))
    ):
        raise InvalidToken("the token's claims are not valid")
    return AccessClaims(
        user_id=payload["sub"],
        tenant_id=payload["tenant"],
        role=payload["role"],
        name=str(payload.get("name") or ""),
        locations=None if locations is None else tuple(str(x) for x in locations),
        staff_session_id=payload["sid"],
        version=payload["ver"],
        scope=payload["scope"],
        issued_at=int(payload["iat"]),
        expires_at=int(payload["exp"]),
    )


class TokenVerifier:
    """`verify` with the process's public keys, remembering each good token for
    `VERIFIED_TTL_S`: a client sends the same access token with every request for minutes, so
    its signature is checked once per process and token, not per request. The expiry is
    checked at every use; a removed key's tokens stop within `VERIFIED_TTL_S` of a restart-free
    change (keys change with a restart, which empties this)."""

    def __init__(
        self,
        keys: Mapping[str, Ed25519PublicKey],
        *,
        ttl_s: float = VERIFIED_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = dict(keys)
        self._clock = clock
        self._verified: TtlCache[str, AccessClaims] = TtlCache(
            lambda token: verify(token, self.keys), ttl_s, max_items=20_000
        )

    def verify(self, token: str) -> AccessClaims:
        claims = self._verified.get(token)
        if claims.expires_at + LEEWAY_S <= self._clock():
            self._verified.forget(token)
            raise InvalidToken("the token has expired: refresh it")
        return claims
