"""HTTP API of the intake service: `gunicorn -c python:shared.gunicorn_conf 'services.intake.app:create_app()'`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.intake import web_form
from services.intake.api import BLUEPRINTS
from services.intake.bootstrap import bootstrap
from services.intake.repository.indexes import create_indexes
from shared.config import load_settings
from shared.web import build_app

TITLE = "Intake API"
DESCRIPTION = (
    "Partner referrals (FHIR R4 or native JSON), patients, intake assessments, "
    "contraindication screening and consent. Partners: see docs/partners.md."
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings("intake", overrides=config)
    app = build_app(
        settings,
        title=TITLE,
        description=DESCRIPTION,
        blueprints=BLUEPRINTS,
        prepare_db=create_indexes,
    )
    app.extensions["deps"] = bootstrap(settings, app.extensions["mongo"])
    app.register_blueprint(web_form.blp)  # the patient's HTML form: outside the OpenAPI document
    return app
