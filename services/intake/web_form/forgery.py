"""Cross-site request forgery defences of the patient's form: a per-form token and the origin.

The form token is the SHA-256 of the link token, signed (timed) with the intake link secret
under its own salt: it is valid only for the link whose page issued it, for as long as a link
lives. A POST must carry it, and when the browser names where the request came from (`Origin`,
else `Referer`), that must be this site (the public base URL or the host the request reached).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer

from shared.config import Settings

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


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` in lower case; None for anything else (including `null`)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_same_origin(origin: str | None, referer: str | None, ours: Iterable[str]) -> bool:
    """False when the browser says the request came from elsewhere; True when it says nothing."""
    said = origin if origin is not None else referer
    if said is None:
        return True
    allowed = {o for o in (origin_of(url) for url in ours) if o}
    return origin_of(said) in allowed
