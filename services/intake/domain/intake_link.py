"""The patient's intake link: `{public_base_url}/intake/{token}`.

The token is signed with `settings.own.intake_link_secret` (itsdangerous `URLSafeTimedSerializer`)
and carries only the referral id and a nonce: no personal data, so a forwarded or logged link
reveals nothing. It is valid for `settings.own.intake_link_ttl_hours`, only while the nonce
matches the referral's `intake_link_nonce` (a new nonce revokes every earlier link), and only
until the referral's intake is complete (one intake per referral: a used link opens nothing).

Pure: tokens are made and read here; which referral a link opens now is
`usecases.intake_links.resolve`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from shared.config import Settings

SALT = "intake-link"
LinkProblem = Literal["invalid", "expired", "closed", "used"]


class InvalidLink(ValueError):
    """A token that is forged, malformed, expired, revoked or used; `problem` says which kind."""

    def __init__(self, message: str, problem: LinkProblem = "invalid") -> None:
        super().__init__(message)
        self.problem: LinkProblem = problem


@dataclass(frozen=True)
class LinkClaims:
    referral_id: str
    nonce: str


@dataclass(frozen=True)
class LinkTarget:
    """The referral a valid link opens, and its clinic."""

    tenant_id: str
    referral_id: str


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.own.intake_link_secret, salt=SALT)


def new_token(settings: Settings, referral_id: str, nonce: str) -> str:
    return _serializer(settings).dumps({"r": referral_id, "n": nonce})


def link_for(settings: Settings, referral_id: str, nonce: str) -> str:
    return f"{settings.own.public_base_url.rstrip('/')}/intake/{new_token(settings, referral_id, nonce)}"


def read_token(settings: Settings, token: str) -> LinkClaims:
    """The claims of a valid, unexpired token; raises InvalidLink."""
    max_age = settings.own.intake_link_ttl_hours * 3600
    try:
        claims = _serializer(settings).loads(token, max_age=max_age)
    except SignatureExpired:
        raise InvalidLink("the intake link has expired", "expired") from None
    except BadSignature:
        raise InvalidLink("the intake link is not valid") from None
    if not isinstance(claims, dict) or not all(isinstance(claims.get(k), str) for k in "rn"):
        raise InvalidLink("the intake link is not valid")
    return LinkClaims(referral_id=claims["r"], nonce=claims["n"])
