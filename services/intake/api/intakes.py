"""Intake assessments: staff complete one for an accepted referral; clearances re-issue the screening."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import fields

from services.intake.api.common import STAFF, PageSchema, View, db, paging, record_access
from services.intake.api.schemas import ClearanceInSchema, IntakeQuerySchema, IntakeSchema
from services.intake.errors import NotFound
from services.intake.intake_form import IntakeFormSchema
from services.intake.repository.patient_data import Intakes
from services.intake.usecases import intakes as assessment
from shared.web.auth import current_principal, requires

blp = Blueprint(
    "intakes",
    __name__,
    url_prefix="/intakes",
    description="Intake assessments and contraindication screening",
)


class IntakeInSchema(IntakeFormSchema):
    referral_id = fields.String(required=True)


@blp.route("")
class IntakeCollection(View):
    @requires(*STAFF)
    @blp.arguments(IntakeInSchema)
    @blp.response(201, IntakeSchema)
    @blp.alt_response(
        409, description="The referral is cancelled, or its intake is already complete"
    )
    def post(self, body):
        """Complete the intake of a referral (history, medications, symptoms, baseline measures, signed consent).

        Screens for contraindications and emits `intake.completed`.
        """
        principal = current_principal()
        referral_id = body.pop("referral_id")
        return assessment.complete_intake(
            db(),
            tenant_id=principal.tenant_id,
            referral_id=referral_id,
            form=body,
            completed_by="staff",
            actor=principal.actor,
            locations=principal.locations,
        )

    @requires(*STAFF)
    @blp.arguments(IntakeQuerySchema, location="query", as_kwargs=True)
    @blp.arguments(PageSchema, location="query")
    @blp.response(200, IntakeSchema(many=True))
    def get(self, page_args, **filters):
        """Intakes at the locations the key may see."""
        principal = current_principal()
        found = Intakes(db(), principal.tenant_id).list(
            principal.locations, filters, **paging(page_args)
        )
        record_access("intake.list", "intake", None, detail=f"{len(found)} intakes")
        return found


@blp.route("/<string:intake_id>")
class Intake(View):
    @requires(*STAFF)
    @blp.response(200, IntakeSchema)
    def get(self, intake_id):
        """One intake with its screening result and clearances."""
        principal = current_principal()
        found = Intakes(db(), principal.tenant_id).get(intake_id, principal.locations)
        if found is None:
            raise NotFound("intake")
        record_access("intake.read", "intake", intake_id)
        return found


@blp.route("/<string:intake_id>/clearances")
class Clearances(View):
    @requires("admin", "therapist")
    @blp.arguments(ClearanceInSchema)
    @blp.response(200, IntakeSchema)
    def post(self, body, intake_id):
        """Record a physician's clearance of `clearance`-tier rules; emits `intake.screening_updated`."""
        principal = current_principal()
        return assessment.record_clearance(
            db(),
            tenant_id=principal.tenant_id,
            intake_id=intake_id,
            rule_ids=body["rule_ids"],
            note=body["note"],
            by=body["cleared_by"],
            actor=principal.actor,
            locations=principal.locations,
        )
