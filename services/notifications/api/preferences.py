"""A patient's channel preferences: intake's consent, the patient's own opt-in/opt-out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from shared.web.auditing import audit_request
from shared.web.auth import current_principal, requires

from ..domain.contacts import PATIENT_CHANNELS, prefs_of
from ..repository.contacts import ContactDirectory
from .context import db, now
from .schemas import PreferencesSchema, PreferencesUpdateSchema

blp = Blueprint(
    "preferences", __name__, description="Patients' channel preferences (opt-in / opt-out)"
)
EDITORS = ("admin", "front_desk")


def preferences_view(contact: Mapping[str, Any]) -> dict[str, Any]:
    prefs = prefs_of(contact)
    consent = contact.get("consent") or {}
    return {
        "patient_id": contact["patient_id"],
        "consent": {c: bool(consent.get(c)) for c in PATIENT_CHANNELS},
        "receive": {c: c not in prefs.opted_out_channels for c in PATIENT_CHANNELS},
        "effective": {c: prefs.allows(c) for c in PATIENT_CHANNELS},
        "language": contact.get("language"),
    }


def _audit(action: str, patient_id: str) -> None:
    audit_request(action, "patient_preferences", patient_id)


@blp.route("/patients/<string:patient_id>/preferences")
class Preferences(MethodView):
    @requires(*EDITORS, "therapist")
    @blp.response(200, PreferencesSchema)
    @blp.alt_response(404, description="No such patient in this clinic")
    def get(self, patient_id: str):
        """The patient's consent (from intake), own choices, and what will be sent."""
        contact = ContactDirectory(db().contacts).get(current_principal().tenant_id, patient_id)
        if contact is None:
            abort(404, message="no such patient")
        assert contact is not None  # abort() raised
        _audit("read", patient_id)
        return preferences_view(contact)

    @requires(*EDITORS)
    @blp.arguments(PreferencesUpdateSchema)
    @blp.response(200, PreferencesSchema)
    @blp.alt_response(404, description="No such patient in this clinic")
    def put(self, choices: dict[str, bool], patient_id: str):
        """Opt the patient out of (false) or back into (true) a channel."""
        directory, tenant_id = ContactDirectory(db().contacts), current_principal().tenant_id
        contact = directory.get(tenant_id, patient_id)
        for channel, receive in choices.items():
            if contact is not None:
                contact = directory.choose(tenant_id, patient_id, channel, receive, now())
        if contact is None:
            abort(404, message="no such patient")
        assert contact is not None  # abort() raised
        _audit("update", patient_id)
        return preferences_view(contact)
