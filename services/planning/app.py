"""HTTP API of the planning service: `gunicorn -c python:shared.gunicorn_conf 'services.planning.app:create_app()'`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.planning import bootstrap
from services.planning.api import BLUEPRINTS
from services.planning.repository.indexes import create_indexes
from shared.config import load_settings
from shared.mongo import Mongo
from shared.web import build_app

TITLE = "Planning API"
DESCRIPTION = (
    "Outcome-based treatment plans, sessions, outcome measurements and progress against the MCID."
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings("planning", overrides=config)
    mongo = Mongo(settings)  # opens its client on first use, in each gunicorn worker
    deps = bootstrap.build(settings, mongo, cache_ttl_s=bootstrap.API_CACHE_TTL_S)
    return build_app(
        settings,
        title=TITLE,
        description=DESCRIPTION,
        blueprints=BLUEPRINTS,
        extensions={"mongo": mongo, "deps": deps},
        prepare_db=create_indexes,
    )
