"""HTTP API of the planning service: `gunicorn -c python:shared.gunicorn_conf 'services.planning.app:create_app()'`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.planning.api import BLUEPRINTS
from services.planning.storage.indexes import prepare
from shared.config import load_settings
from shared.web import build_app

TITLE = "Planning API"
DESCRIPTION = (
    "Outcome-based treatment plans, sessions, outcome measurements and progress against the MCID."
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings("planning", overrides=config)
    return build_app(
        settings, title=TITLE, description=DESCRIPTION, blueprints=BLUEPRINTS, prepare_db=prepare
    )
