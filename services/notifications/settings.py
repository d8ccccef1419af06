"""The notifications service's own settings (beside the core ones of `shared.config`): `settings.own`.

`shared.config.load_settings("notifications")` finds `SECTION` here and loads it with the core.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import fields as f
from marshmallow import validate

from shared.config import EnvSchema, Section, url


class _NotificationsEnvSchema(EnvSchema):
    smtp_host = f.String(load_default="127.0.0.1")
    smtp_port = f.Integer(load_default=1025, validate=validate.Range(min=1, max=65535))
    smtp_from = f.Email(load_default="clinic@example.org")
    smtp_username = f.String(load_default="")
    smtp_password = f.String(load_default="")
    sms_base_url = f.String(load_default="http://127.0.0.1:8090", validate=url("http", "https"))
    sms_api_key = f.String(load_default="dev-sms-key")
    sms_inbound_secret = f.String(
        load_default="dev-sms-inbound-secret", validate=validate.Length(min=8)
    )
    notifications_public_url = f.String(
        load_default="http://127.0.0.1:8003", validate=url("http", "https")
    )
    unsubscribe_secret = f.String(
        load_default="dev-only-unsubscribe-secret", validate=validate.Length(min=16)
    )


@dataclass(frozen=True)
class NotificationsSettings:
    smtp_host: str
    smtp_port: int
    smtp_from: str
    smtp_username: str
    smtp_password: str
    sms_base_url: str
    sms_api_key: str
    sms_inbound_secret: str
    notifications_public_url: str
    unsubscribe_secret: str


SECTION = Section(_NotificationsEnvSchema, NotificationsSettings)
