"""One configuration loader for every process: environment variables only.

Settings come in two parts: the core every process reads (MongoDB, RabbitMQ, HTTP limits, the
worker), declared below, and each service's own section (`services/<name>/settings.py`: the
variables only that service reads, e.g. SMTP for notifications), reached as `settings.own`.
Each variable is declared once (name, type, default, check). ``load_settings`` reads them, and
an invalid value stops start-up with a message that names the variable.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, validate
from marshmallow import fields as f

SERVICES = ("intake", "planning", "notifications", "console")
SHARED_BY_SECTIONS = {"CONSOLE_PUBLIC_URL": ("intake", "console")}
"""Variables two sections declare on purpose (one value, read by both: intake's links point at
the console, which checks that forms come from there)."""


class ConfigError(RuntimeError):
    """Raised when an environment variable is missing or invalid; the message names it."""


def url(*schemes: str) -> validate.Validator:
    """A URL check for a setting (`url("http", "https")`)."""
    return validate.Regexp(
        rf"^({'|'.join(schemes)})://\S+$",
        error=f"must be a URL starting with {' or '.join(schemes)}://",
    )


class EnvSchema(Schema):
    """The settings of one part, each read from its name in capitals (`mongo_url`: `MONGO_URL`);
    a section's schema builds on it."""

    class Meta:
        unknown = EXCLUDE

    def on_bind_field(self, field_name: str, field_obj: f.Field) -> None:
        field_obj.data_key = field_obj.data_key or field_name.upper()


class _CoreEnvSchema(EnvSchema):
    """The core settings. Defaults make `make run` work on a dev machine."""

    mongo_url = f.String(
        load_default="mongodb://127.0.0.1:27017/?directConnection=true",
        validate=url("mongodb", "mongodb+srv"),
    )
    mongo_db = f.String(load_default=None, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,63}$"))
    mongo_timeout_ms = f.Integer(load_default=5000, validate=validate.Range(min=100, max=120_000))
    amqp_url = f.String(
        load_default="amqp://guest:guest@127.0.0.1:5672//", validate=url("amqp", "amqps")
    )
    amqp_heartbeat_s = f.Integer(load_default=20, validate=validate.Range(min=2, max=600))
    amqp_confirm_timeout_s = f.Float(load_default=5.0, validate=validate.Range(min=0.1, max=120))
    amqp_delivery_limit = f.Integer(load_default=5, validate=validate.Range(min=1, max=100))
    amqp_retry_delays_ms = f.String(
        load_default="1000,5000,30000",
        validate=validate.Regexp(
            r"^\d+(,\d+)*$", error="must be comma-separated milliseconds, e.g. 1000,5000,30000"
        ),
    )
    log_level = f.String(
        load_default="INFO", validate=validate.OneOf(["DEBUG", "INFO", "WARNING", "ERROR"])
    )
    max_body_bytes = f.Integer(
        load_default=1_048_576, validate=validate.Range(min=1024, max=50_000_000)
    )
    max_page_size = f.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    worker_heartbeat_file = f.String(load_default=None)
    worker_metrics_addr = f.String(load_default="127.0.0.1")
    worker_metrics_port = f.Integer(load_default=0, validate=validate.Range(min=0, max=65535))
    outbox_poll_interval_s = f.Float(load_default=0.5, validate=validate.Range(min=0.01, max=60))
    scheduler_poll_interval_s = f.Float(
        load_default=1.0, validate=validate.Range(min=0.05, max=3600)
    )
    default_phone_region = f.String(load_default="US", validate=validate.Regexp(r"^[A-Z]{2}$"))
    auth_public_pems = f.String(
        load_default=None,
        metadata={"description": "staff token public keys: a PEM file or a directory of *.pem"},
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
    scheduler_poll_interval_s: float
    default_phone_region: str
    auth_public_pems: str | None
    own: Any = None
    """The service's own section (`services/<name>/settings.py`); None where none was loaded."""

    def as_overrides(self) -> dict[str, Any]:
        """Every setting by name (core and section): `create_app(settings.as_overrides())`."""
        core = {
            fl.name: getattr(self, fl.name)
            for fl in fields(self)
            if fl.name not in ("service", "own")
        }
        own = {fl.name: getattr(self.own, fl.name) for fl in fields(self.own)} if self.own else {}
        return {**core, **own}

    @property
    def retry_delays_ms(self) -> tuple[int, ...]:
        return tuple(int(x) for x in self.amqp_retry_delays_ms.split(","))


@dataclass(frozen=True)
class Section:
    """A service's own settings: the variables (`schema`, an EnvSchema) and their type (`model`,
    a frozen dataclass whose fields are the schema's setting names)."""

    schema: type[EnvSchema]
    model: type


def env_vars(schema: type[Schema]) -> dict[str, str]:
    """Environment variable -> setting name, for a schema of settings."""
    return {field.data_key or name: name for name, field in schema().fields.items()}


ENV_VARS: dict[str, str] = env_vars(_CoreEnvSchema)
"""The core variables (each section has its own: `env_vars(SECTION.schema)`)."""


def every_env_var() -> dict[str, str]:
    """Every variable any process reads -> `core` or the service whose section declares it."""
    found = dict.fromkeys(ENV_VARS, "core")
    for service in SERVICES:
        section = section_of(service)
        for name in env_vars(section.schema) if section else ():
            if name in found and (found[name], service) != SHARED_BY_SECTIONS.get(name):
                raise ConfigError(f"{name} is declared twice ({found[name]} and {service})")
            found[name] = service if name not in found else f"{found[name]}, {service}"
    return found


def _load(schema: type[Schema], env: Mapping[str, str]) -> dict[str, Any]:
    names = env_vars(schema)
    present = {key: value for key, value in env.items() if key in names and value != ""}
    try:
        return schema().load(present)
    except ValidationError as error:
        problems = "; ".join(
            f"{var}: {' '.join(msgs) if isinstance(msgs, list) else msgs}"
            for var, msgs in sorted(error.messages_dict.items())
        )
        raise ConfigError(f"invalid configuration: {problems}") from None


def section_of(service: str) -> Section | None:
    """The service's own section: `SECTION` in `services/<service>/settings.py`, if it has one."""
    module = f"services.{service}.settings"
    if importlib.util.find_spec(module) is None:
        return None
    return importlib.import_module(module).SECTION


def load_settings(
    service: str,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the settings of `service` (the core and its own section) from the environment.

    `overrides` (by setting name, core or section) win over the environment.
    """
    if service not in SERVICES:
        raise ConfigError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
    section = section_of(service)
    env = os.environ if environ is None else environ
    values = _load(_CoreEnvSchema, env)
    values["mongo_db"] = values["mongo_db"] or service
    own = _load(section.schema, env) if section else {}
    core_names = {fl.name for fl in fields(Settings)} - {"service", "own"}
    own_names = {fl.name for fl in fields(section.model)} if section else set()
    unknown = set(overrides or {}) - core_names - own_names
    if unknown:
        raise ConfigError(f"unknown setting(s) in overrides: {', '.join(sorted(unknown))}")
    for name, value in (overrides or {}).items():
        (values if name in core_names else own)[name] = value
    return Settings(service=service, **values, own=section.model(**own) if section else None)
