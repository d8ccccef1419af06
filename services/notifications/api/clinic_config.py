"""The clinic's notification settings: quiet hours, reminders, staff inboxes, partner webhooks."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from shared.web.auth import requires
from shared.web.views import View, deps, principal

from ..usecases import clinic_config
from .schemas import ClinicConfigReplaceSchema, ClinicConfigSchema

blp = Blueprint("config", __name__, description="The clinic's notification settings (admins)")


@blp.route("/config")
class ClinicConfig(View):
    @requires("admin")
    @blp.response(200, ClinicConfigSchema)
    def get(self):
        """The stored settings (absent fields take the documented defaults)."""
        return clinic_config.get_config(deps(), principal())

    @requires("admin")
    @blp.arguments(ClinicConfigReplaceSchema)
    @blp.response(200, ClinicConfigSchema)
    def put(self, config: dict[str, Any]):
        """Replace the settings. A webhook without `secret` keeps its stored secret."""
        return clinic_config.replace_config(deps(), principal(), config)
