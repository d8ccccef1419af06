"""A patient's channel preferences: intake's consent, the patient's own opt-in/opt-out."""

from __future__ import annotations

from flask_smorest import Blueprint

from shared.web.auth import requires
from shared.web.views import View, audited, deps, principal

from ..usecases import preferences
from .schemas import PreferencesSchema, PreferencesUpdateSchema

blp = Blueprint(
    "preferences", __name__, description="Patients' channel preferences (opt-in / opt-out)"
)
EDITORS = ("admin", "front_desk")


@blp.route("/patients/<string:patient_id>/preferences")
class Preferences(View):
    @requires(*EDITORS, "therapist")
    @blp.response(200, PreferencesSchema)
    @blp.alt_response(404, description="No such patient in this clinic")
    def get(self, patient_id: str):
        """The patient's consent (from intake), own choices, and what will be sent."""
        with audited("read", "patient_preferences", patient_id):
            return preferences.get_preferences(deps(), principal(), patient_id)

    @requires(*EDITORS)
    @blp.arguments(PreferencesUpdateSchema)
    @blp.response(200, PreferencesSchema)
    @blp.alt_response(404, description="No such patient in this clinic")
    def put(self, choices: dict[str, bool], patient_id: str):
        """Opt the patient out of (false) or back into (true) a channel."""
        with audited("update", "patient_preferences", patient_id):
            return preferences.change_preferences(deps(), principal(), patient_id, choices)
