"""Patients API: list and read (by location for limited keys), and change consent per channel."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.intake.api.common import STAFF, PageSchema, View, db, paging, record_access
from services.intake.api.schemas import ConsentInSchema, PatientSchema
from services.intake.errors import NotFound
from services.intake.repository.patient_data import Patients
from services.intake.usecases import patient_matching as patients
from shared.web.auth import current_principal, requires

blp = Blueprint("patients", __name__, url_prefix="/patients", description="Patients of the clinic")


@blp.route("")
class PatientList(View):
    @requires(*STAFF)
    @blp.arguments(PageSchema, location="query")
    @blp.response(200, PatientSchema(many=True))
    def get(self, args):
        """Patients at the locations the key may see, by id."""
        principal = current_principal()
        found = Patients(db(), principal.tenant_id).list(principal.locations, **paging(args))
        record_access("patient.list", "patient", None, detail=f"{len(found)} patients")
        return found


@blp.route("/<string:patient_id>")
class Patient(View):
    @requires(*STAFF)
    @blp.response(200, PatientSchema)
    def get(self, patient_id):
        """One patient (404 when not at a location the key may see)."""
        principal = current_principal()
        found = Patients(db(), principal.tenant_id).get(patient_id, principal.locations)
        if found is None:
            raise NotFound("patient")
        record_access("patient.read", "patient", patient_id)
        return found


@blp.route("/<string:patient_id>/consent")
class Consent(View):
    @requires("admin", "front_desk")
    @blp.arguments(ConsentInSchema)
    @blp.response(200, PatientSchema)
    def put(self, body, patient_id):
        """Record the patient's consent per channel (Email OK, Text OK); emits `patient.consent_changed`."""
        principal = current_principal()
        changed = patients.change_consent(
            db(),
            principal.tenant_id,
            patient_id,
            body,
            source="staff",
            locations=principal.locations,
        )
        record_access("patient.consent_change", "patient", patient_id)
        return changed
