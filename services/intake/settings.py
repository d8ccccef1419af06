"""The intake service's own settings (beside the core ones of `shared.config`): `settings.own`.

`shared.config.load_settings("intake")` finds `SECTION` here and loads it with the core.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import fields as f
from marshmallow import validate

from shared.config import EnvSchema, Section, url


class _IntakeEnvSchema(EnvSchema):
    public_base_url = f.String(load_default="http://127.0.0.1:8001", validate=url("http", "https"))
    intake_link_secret = f.String(
        load_default="dev-only-intake-link-secret", validate=validate.Length(min=16)
    )
    intake_link_ttl_hours = f.Integer(load_default=168, validate=validate.Range(min=1, max=24 * 90))
    rabbitmq_management_url = f.String(
        load_default=None,
        allow_none=True,
        validate=url("http", "https"),
        metadata={
            "description": "The broker's management API with an administrator's credentials "
            "(http://admin:<password>@rabbitmq:15672): only the ops CLI's partner commands use it"
        },
    )
    auth_signing_pem = f.String(load_default=None)
    access_token_ttl_s = f.Integer(load_default=300, validate=validate.Range(min=30, max=3600))
    session_max_hours = f.Integer(load_default=12, validate=validate.Range(min=1, max=24))
    console_public_url = f.String(
        load_default="http://127.0.0.1:8004", validate=url("http", "https")
    )
    sign_in_rate_limit = f.Integer(load_default=30, validate=validate.Range(min=1, max=100_000))
    trusted_proxies = f.String(
        load_default="",
        validate=validate.Regexp(
            r"^[0-9a-fA-F.:]*(,[0-9a-fA-F.:]+)*$",
            error="must be comma-separated IP addresses, e.g. 10.0.0.5,10.0.0.6",
        ),
    )


@dataclass(frozen=True)
class IntakeSettings:
    public_base_url: str
    intake_link_secret: str
    intake_link_ttl_hours: int
    auth_signing_pem: str | None
    """Path of intake's Ed25519 private key (PEM) that signs staff access tokens."""
    access_token_ttl_s: int
    session_max_hours: int
    """A staff session's absolute lifetime, whatever its activity."""
    console_public_url: str
    """The staff console's public URL: invitation and password-reset links point there."""
    sign_in_rate_limit: int
    """Sign-in and account-link requests per client address per minute."""
    trusted_proxies: str
    """Addresses (e.g. the console's) whose `X-Forwarded-For` names the client."""
    rabbitmq_management_url: str | None = None
    """The broker's management API (an administrator's): the ops CLI's partner commands only."""


SECTION = Section(_IntakeEnvSchema, IntakeSettings)
