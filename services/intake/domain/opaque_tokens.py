"""Opaque single-purpose tokens: refresh tokens, sign-in challenges, invitation and reset links.

A token is `<tenant id>.<object id>.<secret>`: it says which clinic's object to look at (so the
lookup is one read by id, tenant first), and only the SHA-256 of the whole token is stored.
Secrets are 256 random bits, so a fast hash is enough; comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_TOKEN = re.compile(r"^([a-z0-9][a-z0-9-]{0,62})\.([a-z]{2,6}_[0-9a-f]{20})\.([A-Za-z0-9_-]{43})$")


def new_token(tenant_id: str, object_id: str) -> tuple[str, str]:
    """(the raw token, to hand out once; its hash, to store)."""
    raw = f"{tenant_id}.{object_id}.{secrets.token_urlsafe(32)}"
    return raw, token_hash(raw)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def parse_token(raw: str) -> tuple[str, str] | None:
    """(tenant id, object id) of a well-formed token, else None."""
    match = _TOKEN.match(raw or "")
    return (match[1], match[2]) if match else None


def same_hash(stored: str | None, raw: str) -> bool:
    return stored is not None and hmac.compare_digest(stored, token_hash(raw))
