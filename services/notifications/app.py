"""HTTP API of the notifications service: `gunicorn -c python:shared.gunicorn_conf 'services.notifications.app:create_app()'`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from shared.config import load_settings
from shared.mongo import Mongo
from shared.web import build_app

from .api import BLUEPRINTS
from .bootstrap import build_deps
from .repository.indexes import create_indexes

TITLE = "Notifications API"
DESCRIPTION = "Delivery log, contact preferences and templates for messages to patients, referrers, staff and partners."


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings("notifications", overrides=config)
    mongo = Mongo(settings)
    return build_app(
        settings,
        title=TITLE,
        description=DESCRIPTION,
        blueprints=BLUEPRINTS,
        extensions={"mongo": mongo, "deps": build_deps(settings, mongo)},
        prepare_db=create_indexes,
    )
