"""The patient's intake link: `{public_base_url}/intake/{token}`.

The token is signed with `settings.own.intake_link_secret` (itsdangerous `URLSafeTimedSerializer`)
and carries only the referral id and a nonce: no personal data, so a forwarded or logged link
reveals nothing. It is valid for `settings.own.intake_link_ttl_hours`, only while the nonce
matches the referral's `intake_link_nonce` (a new nonce revokes every earlier link), and only
until the referral's intake is complete (one intake per referral: a used link opens nothing).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pymongo.database import Database

from services.intake.repository import indexes as storage
from shared.config import Settings
from shared.tenancy import TenantScoped

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


def resolve(db: Database, settings: Settings, token: str) -> LinkTarget:
    """The referral a link opens, while its intake is still to do.

    The token is the credential, so the referral is looked up by id alone; the intake, within
    the referral's tenant (the `referral` index).
    """
    claims = read_token(settings, token)
    referral = db[storage.REFERRALS].find_one(
        {"_id": claims.referral_id}, {"tenant_id": 1, "intake_link_nonce": 1, "status": 1}
    )
    if referral is None or referral.get("intake_link_nonce") != claims.nonce:
        raise InvalidLink("the intake link has been replaced or revoked")
    if referral.get("status") != "accepted":
        raise InvalidLink("the referral is no longer open for intake", "closed")
    intakes = TenantScoped(db[storage.INTAKES], referral["tenant_id"])
    if intakes.find_one({"referral_id": claims.referral_id}, {"_id": 1}) is not None:
        raise InvalidLink("the intake of this referral is complete", "used")
    return LinkTarget(tenant_id=referral["tenant_id"], referral_id=claims.referral_id)
