"""Patients API: list and read (by location for limited keys), and change consent per channel."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.intake.api.schemas import ConsentChangeSchema, PatientQuerySchema, PatientSchema
from services.intake.usecases import patients
from shared.web.auth import STAFF_ROLES, requires
from shared.web.paging import page_request, page_schema
from shared.web.views import View, audited, deps, principal

blp = Blueprint("patients", __name__, url_prefix="/patients", description="Patients of the clinic")


@blp.route("")
class PatientCollection(View):
    @requires(*STAFF_ROLES)
    @blp.arguments(PatientQuerySchema, location="query")
    @blp.response(200, page_schema(PatientSchema))
    def get(self, args):
        """Patients at the locations the key may see, by id; `patient_id` (repeated) names them."""
        page, filters = page_request(args)
        with audited("patient.list", "patient"):
            return patients.list_patients(deps(), principal(), page, filters.get("patient_id"))


@blp.route("/<string:patient_id>")
class Patient(View):
    @requires(*STAFF_ROLES)
    @blp.response(200, PatientSchema)
    def get(self, patient_id):
        """One patient (404 when not at a location the key may see)."""
        with audited("patient.read", "patient", patient_id):
            return patients.get_patient(deps(), principal(), patient_id)


@blp.route("/<string:patient_id>/consent")
class PatientConsent(View):
    @requires("admin", "front_desk")
    @blp.arguments(ConsentChangeSchema)
    @blp.response(200, PatientSchema)
    def put(self, body, patient_id):
        """Record the patient's consent per channel (Email OK, Text OK); emits `patient.consent_changed`."""
        with audited("patient.consent_change", "patient", patient_id):
            return patients.change_consent(deps(), principal(), patient_id, body)
