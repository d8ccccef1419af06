"""What every view needs from the app: the database, the settings, the clock."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from pymongo.database import Database

from shared.config import Settings


def db() -> Database:
    return current_app.extensions["mongo"].db


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def now() -> datetime:
    return datetime.now(UTC)
