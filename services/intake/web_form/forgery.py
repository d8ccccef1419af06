"""Cross-site request forgery defences of the patient's form: a per-form token and the origin.

The form token is the SHA-256 of the link token, signed (timed) with the intake link secret
under its own salt: it is valid only for the link whose page issued it, for as long as a link
lives. A POST must carry it, and when the browser names where the request came from (`Origin`,
else `Referer`), that must be this site (the public base URL or the host the request reached).
"""

from __future__ import annotations

import hashlib
import hmac

from itsdangerous import BadSignature, URLSafeTimedSerializer

from shared.config import Settings
from shared.web.same_origin import is_same_origin

__all__ = ["form_token", "is_form_token_valid", "is_same_origin"]

SALT = "intake-form"


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.own.intake_link_secret, salt=SALT)


def _digest(link_token: str) -> str:
    return hashlib.sha256(link_token.encode()).hexdigest()


def form_token(settings: Settings, link_token: str) -> str:
    return _serializer(settings).dumps(_digest(link_token))


def is_form_token_valid(settings: Settings, link_token: str, posted: str | None) -> bool:
    if not posted:
        return False
    try:
        digest = _serializer(settings).loads(
            posted, max_age=settings.own.intake_link_ttl_hours * 3600
        )
    except BadSignature:  # includes SignatureExpired
        return False
    return isinstance(digest, str) and hmac.compare_digest(digest, _digest(link_token))
