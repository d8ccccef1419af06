"""HTTP API of the intake service: `gunicorn -c python:shared.gunicorn_conf 'services.intake.app:create_app()'`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.intake import web_form
from services.intake.api import BLUEPRINTS
from services.intake.bootstrap import bootstrap
from services.intake.domain.passwords import dummy_hash
from services.intake.repository.indexes import create_indexes
from services.intake.usecases.staff_sessions import access_state
from shared.config import ConfigError, load_settings
from shared.web import build_app
from shared.web.auth import TOKEN_KEYS, TOKEN_STATE

TITLE = "Intake API"
DESCRIPTION = (
    "Partner referrals (FHIR R4 or native JSON), patients, intake assessments, "
    "contraindication screening and consent; the clinic's staff users and their sign-in. "
    "Partners: see docs/partners.md."
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings("intake", overrides=config)
    app = build_app(
        settings,
        title=TITLE,
        description=DESCRIPTION,
        blueprints=BLUEPRINTS,
        extensions={TOKEN_STATE: access_state},  # intake owns users and sessions: no replica
        prepare_db=create_indexes,
    )
    deps = app.extensions["deps"] = bootstrap(settings, app.extensions["mongo"])
    if deps.signing_key and deps.signing_key.kid not in app.extensions[TOKEN_KEYS].keys:
        raise ConfigError(
            "invalid configuration: AUTH_SIGNING_PEM's public key is not among AUTH_PUBLIC_PEMS"
        )
    dummy_hash()  # made now, so that the first sign-in of an unknown email costs no more than others
    app.register_blueprint(web_form.blp)  # the patient's HTML form: outside the OpenAPI document
    return app
