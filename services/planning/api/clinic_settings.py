"""The clinic's planning settings (`/settings`): referral alert thresholds and the re-assessment
policy. No patient data."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.planning.api.schemas import ClinicSettingsReplaceSchema, ClinicSettingsSchema
from services.planning.usecases import clinic_settings
from shared.web.auth import STAFF_ROLES, requires
from shared.web.views import View, deps, principal

blp = Blueprint(
    "settings",
    __name__,
    url_prefix="/settings",
    description="Per-clinic thresholds (no patient data); defaults apply until an admin sets them.",
)


@blp.route("")
class ClinicSettingsItem(View):
    @requires(*STAFF_ROLES)
    @blp.response(200, ClinicSettingsSchema)
    def get(self):
        """The clinic's settings (the defaults when none were set)."""
        return clinic_settings.get_clinic_settings(deps(), principal())

    @requires("admin")
    @blp.arguments(ClinicSettingsReplaceSchema)
    @blp.response(200, ClinicSettingsSchema)
    def put(self, body):
        """Replace the clinic's settings."""
        return clinic_settings.replace_clinic_settings(deps(), principal(), body)
