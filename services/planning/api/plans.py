"""Plans: list, read, edit, approve, complete, discontinue; history and progress."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from services.planning.api import plan_schemas as schemas
from services.planning.api.common import audited, db, page_size
from services.planning.plans_service import PlanService
from shared.web.auth import current_principal, requires

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
READERS = ("admin", "therapist", "front_desk")
CLINICIANS = ("admin", "therapist")


def service() -> PlanService:
    return PlanService(db(), current_principal())


@blp.route("")
class PlanList(MethodView):
    @requires(*READERS)
    @blp.arguments(schemas.PlanListArgs, location="query")
    @blp.response(200, schemas.PlanOut(many=True))
    def get(self, args):
        """Plans of the clinic at the locations the caller may see, newest first."""
        filters = {
            k: args[k] for k in ("status", "location_id", "patient_id", "referral_id") if k in args
        }
        with audited("plan.list", "plan"):
            return service().page(filters, args["page"], page_size(args["page_size"]))


@blp.route("/<string:plan_id>")
class PlanItem(MethodView):
    @requires(*READERS)
    @blp.response(200, schemas.PlanOut)
    @blp.alt_response(404, description="no such plan for this clinic and caller")
    def get(self, plan_id):
        """A plan: status (with reasons when held or blocked), content, referral terms, visits."""
        with audited("plan.read", "plan", plan_id):
            return service().get(plan_id)

    @requires(*CLINICIANS)
    @blp.arguments(schemas.PlanEditArgs)
    @blp.response(200, schemas.PlanOut)
    @blp.alt_response(409, description="the plan moved on, or its status allows no such edit")
    def patch(self, args, plan_id):
        """Edit a draft (anything planned) or an active plan (techniques, goals, notes)."""
        version = args.pop("version")
        with audited("plan.update", "plan", plan_id):
            return service().edit(plan_id, version, args)


@blp.route("/<string:plan_id>/approve")
class PlanApproval(MethodView):
    @requires(*CLINICIANS)
    @blp.arguments(schemas.VersionArgs)
    @blp.response(200, schemas.PlanOut)
    @blp.alt_response(409, description="not a draft, or the plan does not fit the referral")
    def post(self, args, plan_id):
        """Approve a draft: it becomes active and sessions can be booked."""
        with audited("plan.approve", "plan", plan_id):
            return service().approve(plan_id, args["version"])


@blp.route("/<string:plan_id>/complete")
class PlanCompletion(MethodView):
    @requires(*CLINICIANS)
    @blp.arguments(schemas.CompleteArgs)
    @blp.response(200, schemas.PlanOut)
    @blp.alt_response(409, description="the plan is not active")
    def post(self, args, plan_id):
        """Complete an active plan (sessions still to come are cancelled)."""
        with audited("plan.complete", "plan", plan_id):
            return service().close(plan_id, args["version"], "completed", args["reason"])


@blp.route("/<string:plan_id>/discontinue")
class PlanDiscontinuation(MethodView):
    @requires(*CLINICIANS)
    @blp.arguments(schemas.DiscontinueArgs)
    @blp.response(200, schemas.PlanOut)
    @blp.alt_response(409, description="the plan is already closed or cannot be planned")
    def post(self, args, plan_id):
        """Discontinue a held, draft or active plan (sessions still to come are cancelled)."""
        with audited("plan.discontinue", "plan", plan_id):
            return service().close(plan_id, args["version"], "discontinued", args["reason"])


@blp.route("/<string:plan_id>/history")
class PlanHistory(MethodView):
    @requires(*CLINICIANS)
    @blp.response(200, schemas.HistoryEntryOut(many=True))
    def get(self, plan_id):
        """Superseded versions, newest first: each as it was, and who replaced it when."""
        with audited("plan.history.read", "plan", plan_id):
            return service().history(plan_id)


@blp.route("/<string:plan_id>/progress")
class PlanProgress(MethodView):
    @requires(*CLINICIANS)
    @blp.response(200, schemas.ProgressOut)
    def get(self, plan_id):
        """Per measure: change from baseline, MCID reached, goal met; visits; re-assessment due."""
        with audited("plan.progress.read", "plan", plan_id):
            return service().progress(plan_id)
