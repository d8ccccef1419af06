"""One configuration loader for every process: environment variables only.

Each variable is declared once below (name, type, default, check). ``load_settings`` reads them,
and an invalid value stops start-up with a message that names the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, validate
from marshmallow import fields as f

SERVICES = ("intake", "planning", "notifications")


class ConfigError(RuntimeError):
    """Raised when an environment variable is missing or invalid; the message names it."""


def _url(*schemes: str) -> validate.Validator:
    return validate.Regexp(
        rf"^({'|'.join(schemes)})://\S+$",
        error=f"must be a URL starting with {' or '.join(schemes)}://",
    )


class _EnvSchema(Schema):
    """Environment variable name -> setting. Defaults make `make run` work on a dev machine."""

    class Meta:
        unknown = EXCLUDE

    mongo_url = f.String(
        data_key="MONGO_URL",
        load_default="mongodb://127.0.0.1:27017/?directConnection=true",
        validate=_url("mongodb", "mongodb+srv"),
    )
    mongo_db = f.String(
        data_key="MONGO_DB", load_default=None, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,63}$")
    )
    mongo_timeout_ms = f.Integer(
        data_key="MONGO_TIMEOUT_MS",
        load_default=5000,
        validate=validate.Range(min=100, max=120_000),
    )
    amqp_url = f.String(
        data_key="AMQP_URL",
        load_default="amqp://guest:guest@127.0.0.1:5672//",
        validate=_url("amqp", "amqps"),
    )
    amqp_heartbeat_s = f.Integer(
        data_key="AMQP_HEARTBEAT_S", load_default=20, validate=validate.Range(min=2, max=600)
    )
    amqp_confirm_timeout_s = f.Float(
        data_key="AMQP_CONFIRM_TIMEOUT_S",
        load_default=5.0,
        validate=validate.Range(min=0.1, max=120),
    )
    amqp_delivery_limit = f.Integer(
        data_key="AMQP_DELIVERY_LIMIT", load_default=5, validate=validate.Range(min=1, max=100)
    )
    amqp_retry_delays_ms = f.String(
        data_key="AMQP_RETRY_DELAYS_MS",
        load_default="1000,5000,30000",
        validate=validate.Regexp(
            r"^\d+(,\d+)*$", error="must be comma-separated milliseconds, e.g. 1000,5000,30000"
        ),
    )
    log_level = f.String(
        data_key="LOG_LEVEL",
        load_default="INFO",
        validate=validate.OneOf(["DEBUG", "INFO", "WARNING", "ERROR"]),
    )
    max_body_bytes = f.Integer(
        data_key="MAX_BODY_BYTES",
        load_default=1_048_576,
        validate=validate.Range(min=1024, max=50_000_000),
    )
    max_page_size = f.Integer(
        data_key="MAX_PAGE_SIZE", load_default=100, validate=validate.Range(min=1, max=1000)
    )
    worker_heartbeat_file = f.String(data_key="WORKER_HEARTBEAT_FILE", load_default=None)
    worker_metrics_addr = f.String(data_key="WORKER_METRICS_ADDR", load_default="127.0.0.1")
    worker_metrics_port = f.Integer(
        data_key="WORKER_METRICS_PORT", load_default=0, validate=validate.Range(min=0, max=65535)
    )
    outbox_poll_interval_s = f.Float(
        data_key="OUTBOX_POLL_INTERVAL_S",
        load_default=0.5,
        validate=validate.Range(min=0.01, max=60),
    )
    public_base_url = f.String(
        data_key="PUBLIC_BASE_URL",
        load_default="http://127.0.0.1:8001",
        validate=_url("http", "https"),
    )
    intake_link_secret = f.String(
        data_key="INTAKE_LINK_SECRET",
        load_default="dev-only-intake-link-secret",
        validate=validate.Length(min=16),
    )
    intake_link_ttl_hours = f.Integer(
        data_key="INTAKE_LINK_TTL_HOURS",
        load_default=168,
        validate=validate.Range(min=1, max=24 * 90),
    )
    smtp_host = f.String(data_key="SMTP_HOST", load_default="127.0.0.1")
    smtp_port = f.Integer(
        data_key="SMTP_PORT", load_default=1025, validate=validate.Range(min=1, max=65535)
    )
    smtp_from = f.Email(data_key="SMTP_FROM", load_default="clinic@example.org")
    smtp_username = f.String(data_key="SMTP_USERNAME", load_default="")
    smtp_password = f.String(data_key="SMTP_PASSWORD", load_default="")
    sms_base_url = f.String(
        data_key="SMS_BASE_URL",
        load_default="http://127.0.0.1:8090",
        validate=_url("http", "https"),
    )
    sms_api_key = f.String(data_key="SMS_API_KEY", load_default="dev-sms-key")
    sms_inbound_secret = f.String(
        data_key="SMS_INBOUND_SECRET",
        load_default="dev-sms-inbound-secret",
        validate=validate.Length(min=8),
    )
    notifications_public_url = f.String(
        data_key="NOTIFICATIONS_PUBLIC_URL",
        load_default="http://127.0.0.1:8003",
        validate=_url("http", "https"),
    )
    unsubscribe_secret = f.String(
        data_key="UNSUBSCRIBE_SECRET",
        load_default="dev-only-unsubscribe-secret",
        validate=validate.Length(min=16),
    )
    scheduler_poll_interval_s = f.Float(
        data_key="SCHEDULER_POLL_INTERVAL_S",
        load_default=1.0,
        validate=validate.Range(min=0.05, max=3600),
    )
    default_phone_region = f.String(
        data_key="DEFAULT_PHONE_REGION", load_default="US", validate=validate.Regexp(r"^[A-Z]{2}$")
    )


@dataclass(frozen=True)
class Settings:
    service: str
    mongo_url: str
    mongo_db: str
    mongo_timeout_ms: int
    amqp_url: str
    amqp_heartbeat_s: int
    amqp_confirm_timeout_s: float
    amqp_delivery_limit: int
    amqp_retry_delays_ms: str
    log_level: str
    max_body_bytes: int
    max_page_size: int
    worker_heartbeat_file: str | None
    worker_metrics_addr: str
    worker_metrics_port: int
    outbox_poll_interval_s: float
    public_base_url: str
    intake_link_secret: str
    intake_link_ttl_hours: int
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
    scheduler_poll_interval_s: float
    default_phone_region: str

    @property
    def retry_delays_ms(self) -> tuple[int, ...]:
        return tuple(int(x) for x in self.amqp_retry_delays_ms.split(","))


ENV_VARS: dict[str, str] = {
    field.data_key or name: name for name, field in _EnvSchema().fields.items()
}


def load_settings(
    service: str,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the settings of `service` from the environment; `overrides` (by setting name) win."""
    if service not in SERVICES:
        raise ConfigError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
    env = os.environ if environ is None else environ
    present = {key: value for key, value in env.items() if key in ENV_VARS and value != ""}
    try:
        values = _EnvSchema().load(present)
    except ValidationError as error:
        problems = "; ".join(
            f"{var}: {' '.join(msgs) if isinstance(msgs, list) else msgs}"
            for var, msgs in sorted(error.messages_dict.items())
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
    values["mongo_db"] = values["mongo_db"] or service
    unknown = set(overrides or {}) - {fl.name for fl in fields(Settings)}
    if unknown:
        raise ConfigError(f"unknown setting(s) in overrides: {', '.join(sorted(unknown))}")
    values.update(overrides or {})
    return Settings(service=service, **values)
