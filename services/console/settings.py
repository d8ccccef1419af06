"""The console's own settings (beside the core ones of `shared.config`): `settings.own`.

The console reads no database and holds no key to the APIs: it needs where the three APIs are,
its own public URL (forms must come from there), the secret its sign-in cookie is sealed with,
and how the cookie and the idle warning behave.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import fields as f
from marshmallow import validate

from shared.config import EnvSchema, Section, url

DEV_SECRET = "dev-only-console-secret-change-me-in-production"


class _ConsoleEnvSchema(EnvSchema):
    intake_api_url = f.String(load_default="http://127.0.0.1:8001", validate=url("http", "https"))
    planning_api_url = f.String(load_default="http://127.0.0.1:8002", validate=url("http", "https"))
    notifications_api_url = f.String(
        load_default="http://127.0.0.1:8003", validate=url("http", "https")
    )
    console_public_url = f.String(
        load_default="http://127.0.0.1:8004", validate=url("http", "https")
    )
    console_secret = f.String(load_default=DEV_SECRET, validate=validate.Length(min=32))
    console_cookie_secure = f.Boolean(load_default=True)
    console_idle_warning_s = f.Integer(load_default=120, validate=validate.Range(min=30, max=900))
    console_api_timeout_s = f.Float(load_default=10.0, validate=validate.Range(min=0.5, max=60))


@dataclass(frozen=True)
class ConsoleSettings:
    intake_api_url: str
    planning_api_url: str
    notifications_api_url: str
    console_public_url: str
    """Where staff reach the console (the same value intake's account links point at)."""
    console_secret: str
    """Seals the sign-in cookie (at least 32 characters; set it in production)."""
    console_cookie_secure: bool
    """The cookie is sent over HTTPS only; false only for local development over http."""
    console_idle_warning_s: int
    """How long before the idle timeout the page warns (and offers to stay signed in)."""
    console_api_timeout_s: float
    """How long a page waits for an API before it shows the 503 page."""


SECTION = Section(_ConsoleEnvSchema, ConsoleSettings)
