"""Clinic settings of planning: referral alert thresholds and the re-assessment policy."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from services.planning.api import settings_schemas as schemas
from services.planning.api.common import db
from services.planning.storage.tenant_settings import (
    PlanningSettings,
    load_settings,
    save_settings,
)
from shared.web.auth import current_principal, requires

blp = Blueprint(
    "settings",
    __name__,
    url_prefix="/settings",
    description="Per-clinic thresholds (no patient data); defaults apply until an admin sets them.",
)


@blp.route("")
class Settings(MethodView):
    @requires("admin", "therapist", "front_desk")
    @blp.response(200, schemas.SettingsIO)
    def get(self):
        """The clinic's settings (the defaults when none were set)."""
        return load_settings(db(), current_principal().tenant_id).to_dict()

    @requires("admin")
    @blp.arguments(schemas.SettingsIO)
    @blp.response(200, schemas.SettingsIO)
    def put(self, args):
        """Replace the clinic's settings."""
        principal = current_principal()
        settings = PlanningSettings.from_dict(args)
        save_settings(db(), principal.tenant_id, settings, principal.actor)
        return settings.to_dict()
