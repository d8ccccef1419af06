"""Intake assessments: staff complete one for an accepted referral; clearances re-issue the screening."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.intake.api.schemas import (
    ClearanceCreateSchema,
    IntakeCreateSchema,
    IntakeFormAnswersSchema,
    IntakeFormDefinitionSchema,
    IntakeFormQuerySchema,
    IntakeQuerySchema,
    IntakeSchema,
)
from services.intake.usecases import intake_forms, intakes
from shared.web.auth import STAFF_ROLES, requires
from shared.web.paging import page_request, page_schema
from shared.web.views import View, audited, deps, principal

blp = Blueprint(
    "intakes",
    __name__,
    url_prefix="/intakes",
    description="Intake assessments and contraindication screening",
)


@blp.route("")
class IntakeCollection(View):
    @requires(*STAFF_ROLES)
    @blp.arguments(IntakeCreateSchema)
    @blp.response(201, IntakeSchema)
    @blp.alt_response(
        409, description="The referral is cancelled, or its intake is already complete"
    )
    def post(self, body):
        """Complete the intake of a referral; screens for contraindications.

        The history, medications, symptoms, baseline measures and signed consent; emits
        `intake.completed`.
        """
        with audited("intake.complete", "intake") as call:
            intake = intakes.complete_intake(deps(), principal(), body.pop("referral_id"), body)
            call.object_id = intake["_id"]
            return intake

    @requires(*STAFF_ROLES)
    @blp.arguments(IntakeQuerySchema, location="query")
    @blp.response(200, page_schema(IntakeSchema))
    def get(self, args):
        """Intakes at the locations the key may see, by id."""
        page, filters = page_request(args)
        with audited("intake.list", "intake"):
            return intakes.list_intakes(deps(), principal(), filters, page)


@blp.route("/form")
class IntakeForm(View):
    @requires(*STAFF_ROLES)
    @blp.arguments(IntakeFormQuerySchema, location="query")
    @blp.response(200, IntakeFormDefinitionSchema)
    @blp.alt_response(409, description="The referral is not accepted, or its intake is complete")
    def get(self, args):
        """The patient's intake form of an accepted referral, as data: the same sections,
        questions and questionnaires (by the referral's diagnoses) as the patient's web form."""
        with audited("intake_form.read", "referral", args["referral_id"]):
            return intake_forms.intake_form(deps(), principal(), args["referral_id"])

    @requires(*STAFF_ROLES)
    @blp.arguments(IntakeFormAnswersSchema)
    @blp.response(201, IntakeSchema)
    @blp.alt_response(409, description="The referral is not accepted, or its intake is complete")
    def post(self, body):
        """Complete the intake from the form's answers, read and checked as the patient's web
        form reads them; each error is under `errors.json["answers.<field name>"]`."""
        with audited("intake.complete", "intake") as call:
            intake = intake_forms.record_intake(
                deps(), principal(), body["referral_id"], body["answers"]
            )
            call.object_id = intake["_id"]
            return intake


@blp.route("/<string:intake_id>")
class Intake(View):
    @requires(*STAFF_ROLES)
    @blp.response(200, IntakeSchema)
    def get(self, intake_id):
        """One intake with its screening result and clearances."""
        with audited("intake.read", "intake", intake_id):
            return intakes.get_intake(deps(), principal(), intake_id)


@blp.route("/<string:intake_id>/clearances")
class IntakeClearances(View):
    @requires("admin", "therapist")
    @blp.arguments(ClearanceCreateSchema)
    @blp.response(200, IntakeSchema)
    def post(self, body, intake_id):
        """Record a physician's clearance of `clearance`-tier rules; emits `intake.screening_updated`."""
        with audited("intake.clearance", "intake", intake_id):
            return intakes.record_clearance(
                deps(),
                principal(),
                intake_id,
                rule_ids=body["rule_ids"],
                note=body["note"],
                by=body["cleared_by"],
            )
