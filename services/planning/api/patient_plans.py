"""A patient's plans with their sessions (and, for clinicians, notes, measurements and progress):
what the console's chart shows in one call."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.planning.api.schemas import PatientPlanQuerySchema, PatientPlanSchema
from services.planning.usecases import plans
from shared.web.auth import STAFF_ROLES, requires
from shared.web.paging import page_request, page_schema
from shared.web.views import View, audited, deps, principal

blp = Blueprint(
    "patient_plans",
    __name__,
    url_prefix="/patients",
    description="A patient's plans with their sessions, for the patient's chart",
)


@blp.route("/<string:patient_id>/plans")
class PatientPlans(View):
    @requires(*STAFF_ROLES)
    @blp.arguments(PatientPlanQuerySchema, location="query")
    @blp.response(200, page_schema(PatientPlanSchema))
    def get(self, args, patient_id):
        """The patient's plans at the locations the caller may see, newest first, each with its
        sessions in booking order; for admins and therapists also each session's notes and
        measurements and the plan's progress per measure (`measures`)."""
        request, _ = page_request(args)
        with audited("plan.list", "patient", patient_id):
            return plans.patient_plans(deps(), principal(), patient_id, request)
