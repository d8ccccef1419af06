"""The planning HTTP API (flask-smorest blueprints)."""

from services.planning.api import plans, sessions, settings

BLUEPRINTS = (plans.blp, sessions.blp, settings.blp)
