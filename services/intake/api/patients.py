"""Patients API: list and read (by location for limited keys), and change consent per channel."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.intake.api.schemas import (
    ConsentChangeSchema,
    PatientQuerySchema,
    PatientSchema,
    PatientSummarySchema,
)
from services.intake.usecases import patient_chart, patients
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
        """Patients at the locations the key may see: `patient_id` (repeated) names a few (by
        id); else a search by `name` (each word a prefix of a name, case and accents ignored),
        `birth_date`, `identifier` (an MRN) and `phone`, every one given matching (by family
        then given name)."""
        page, filters = page_request(args)
        with audited("patient.list", "patient"):
            if filters.get("patient_id"):
                return patients.list_patients(deps(), principal(), page, filters["patient_id"])
            return patients.search_patients(deps(), principal(), page, filters)


@blp.route("/<string:patient_id>")
class Patient(View):
    @requires(*STAFF_ROLES)
    @blp.response(200, PatientSchema)
    def get(self, patient_id):
        """One patient (404 when not at a location the key may see)."""
        with audited("patient.read", "patient", patient_id):
            return patients.get_patient(deps(), principal(), patient_id)


@blp.route("/<string:patient_id>/summary")
class PatientSummary(View):
    @requires(*STAFF_ROLES)
    @blp.response(200, PatientSummarySchema)
    def get(self, patient_id):
        """The patient with their latest 20 referrals and intakes, newest first (each intake
        with its screening outcome, reasons and clearances): the chart in one call."""
        with audited("patient.read", "patient", patient_id):
            return patient_chart.patient_summary(deps(), principal(), patient_id)


@blp.route("/<string:patient_id>/consent")
class PatientConsent(View):
    @requires("admin", "front_desk")
    @blp.arguments(ConsentChangeSchema)
    @blp.response(200, PatientSchema)
    def put(self, body, patient_id):
        """Record the patient's consent per channel (Email OK, Text OK); emits `patient.consent_changed`."""
        with audited("patient.consent_change", "patient", patient_id):
            return patients.change_consent(deps(), principal(), patient_id, body)
