"""Plans: list, read, edit, approve, complete, discontinue; history and progress."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.planning.api.schemas import (
    PlanApproveSchema,
    PlanCompleteSchema,
    PlanDiscontinueSchema,
    PlanEditSchema,
    PlanQuerySchema,
    PlanSchema,
    PlanVersionQuerySchema,
    PlanVersionSchema,
    ProgressSchema,
)
from services.planning.usecases import plans
from shared.web.auth import STAFF_ROLES, requires
from shared.web.paging import page_request, page_schema
from shared.web.views import View, audited, deps, principal

blp = Blueprint(
    "plans",
    __name__,
    url_prefix="/plans",
    description=(
        "Treatment plans, one per referral: drafted from the intake (or held for a physician's "
        "clearance, or 'cannot_plan' with the screening's reasons), edited and approved by "
        "therapists, then completed or discontinued. Every change makes a new version."
    ),
)
CLINICIANS = ("admin", "therapist")


@blp.route("")
class PlanCollection(View):
    @requires(*STAFF_ROLES)
    @blp.arguments(PlanQuerySchema, location="query")
    @blp.response(200, page_schema(PlanSchema))
    def get(self, args):
        """Plans of the clinic at the locations the caller may see, newest first."""
        request, filters = page_request(args)
        with audited("plan.list", "plan"):
            return plans.list_plans(deps(), principal(), filters, request)


@blp.route("/<string:plan_id>")
class PlanItem(View):
    @requires(*STAFF_ROLES)
    @blp.response(200, PlanSchema)
    @blp.alt_response(404, description="no such plan for this clinic and caller")
    def get(self, plan_id):
        """A plan: status (with reasons when held or blocked), content, referral terms, visits."""
        with audited("plan.read", "plan", plan_id):
            return plans.get_plan(deps(), principal(), plan_id)

    @requires(*CLINICIANS)
    @blp.arguments(PlanEditSchema)
    @blp.response(200, PlanSchema)
    @blp.alt_response(409, description="the plan moved on, or its status allows no such edit")
    def patch(self, body, plan_id):
        """Edit a draft (anything planned) or an active plan (techniques, goals, notes)."""
        version = body.pop("version")
        with audited("plan.update", "plan", plan_id):
            return plans.edit_plan(deps(), principal(), plan_id, version, body)


@blp.route("/<string:plan_id>/approve")
class PlanApproval(View):
    @requires(*CLINICIANS)
    @blp.arguments(PlanApproveSchema)
    @blp.response(200, PlanSchema)
    @blp.alt_response(409, description="not a draft, or the plan does not fit the referral")
    def post(self, body, plan_id):
        """Approve a draft: it becomes active and sessions can be booked."""
        with audited("plan.approve", "plan", plan_id):
            return plans.approve_plan(deps(), principal(), plan_id, body["version"])


@blp.route("/<string:plan_id>/complete")
class PlanCompletion(View):
    @requires(*CLINICIANS)
    @blp.arguments(PlanCompleteSchema)
    @blp.response(200, PlanSchema)
    @blp.alt_response(409, description="the plan is not active")
    def post(self, body, plan_id):
        """Complete an active plan (sessions still to come are cancelled)."""
        with audited("plan.complete", "plan", plan_id):
            return plans.close_plan(
                deps(), principal(), plan_id, body["version"], "completed", body["reason"]
            )


@blp.route("/<string:plan_id>/discontinue")
class PlanDiscontinuation(View):
    @requires(*CLINICIANS)
    @blp.arguments(PlanDiscontinueSchema)
    @blp.response(200, PlanSchema)
    @blp.alt_response(409, description="the plan is already closed or cannot be planned")
    def post(self, body, plan_id):
        """Discontinue a held, draft or active plan (sessions still to come are cancelled)."""
        with audited("plan.discontinue", "plan", plan_id):
            return plans.close_plan(
                deps(), principal(), plan_id, body["version"], "discontinued", body["reason"]
            )


@blp.route("/<string:plan_id>/history")
class PlanHistory(View):
    @requires(*CLINICIANS)
    @blp.arguments(PlanVersionQuerySchema, location="query")
    @blp.response(200, page_schema(PlanVersionSchema))
    def get(self, args, plan_id):
        """Superseded versions, newest first: each as it was, and who replaced it when."""
        request, _ = page_request(args)
        with audited("plan.history.read", "plan", plan_id):
            return plans.plan_history(deps(), principal(), plan_id, request)


@blp.route("/<string:plan_id>/progress")
class PlanProgress(View):
    @requires(*CLINICIANS)
    @blp.response(200, ProgressSchema)
    def get(self, plan_id):
        """Per measure: change from baseline, MCID reached, goal met; visits; re-assessment due."""
        with audited("plan.progress.read", "plan", plan_id):
            return plans.plan_progress(deps(), principal(), plan_id)
