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


@dataclass(frozen=True)
class IntakeSettings:
    public_base_url: str
    intake_link_secret: str
    intake_link_ttl_hours: int
    rabbitmq_management_url: str | None = None


SECTION = Section(_IntakeEnvSchema, IntakeSettings)
