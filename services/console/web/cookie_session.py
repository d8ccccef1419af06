"""The console's sign-in state: Flask's session, sealed in one encrypted, authenticated cookie.

The cookie holds the person's tokens (access and refresh), the form token (CSRF), a pending
second-factor challenge and the flash messages: nothing else, and nothing a person could read or
change (Fernet: AES-128-CBC with HMAC-SHA256, keyed from the console's secret). It is HttpOnly,
SameSite=Lax, Secure outside local development, lasts as long as the browser session, and a
seal older than the longest staff session (12 hours) is not opened at all.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

COOKIE_NAME = "console"
LONGEST_SESSION = timedelta(hours=12)


def fernet_key(secret: str) -> bytes:
    """A Fernet key derived from the console's secret (HKDF-SHA256, its own purpose)."""
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"clinic-console-cookie-v1"
    ).derive(secret.encode())
    return base64.urlsafe_b64encode(derived)


class SealedSerializer:
    """What Flask's cookie session asks of a serializer (`dumps`, `loads(max_age)`), sealed."""

    def __init__(self, secret: str) -> None:
        self.fernet = Fernet(fernet_key(secret))
        self.tagged = TaggedJSONSerializer()

    def dumps(self, value: dict[str, Any]) -> str:
        return self.fernet.encrypt(self.tagged.dumps(value).encode()).decode("ascii")

    def loads(self, sealed: str, max_age: int | None = None) -> dict[str, Any]:
        try:
            opened = self.fernet.decrypt(sealed.encode("ascii"), ttl=max_age)
            value = self.tagged.loads(opened.decode())
        except (InvalidToken, UnicodeError, ValueError, json.JSONDecodeError):
            raise BadSignature("the console cookie cannot be opened") from None
        if not isinstance(value, dict):
            raise BadSignature("the console cookie holds no session")
        return value


class SealedCookieSessionInterface(SecureCookieSessionInterface):
    def __init__(self, secret: str) -> None:
        self.serializer_for_cookie = SealedSerializer(secret)

    def get_signing_serializer(self, app: Flask) -> SealedSerializer:  # type: ignore[override]
        return self.serializer_for_cookie


def init_cookie_session(app: Flask, secret: str, *, secure: bool) -> None:
    app.session_interface = SealedCookieSessionInterface(secret)
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=LONGEST_SESSION,
    )
