"""Sessions of a plan: schedule (local time at the location), reschedule, cancel, no-show,
complete with SOAP notes and outcome measurements; and the clinic's calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.views import MethodView
from flask_smorest import Blueprint

from services.planning.api import session_schemas as schemas
from services.planning.api.common import audited, db, page_size
from services.planning.session_booking import BookingService
from services.planning.sessions_service import SessionService
from shared.web.auth import current_principal, requires

blp = Blueprint(
    "sessions",
    __name__,
    description=(
        "Sessions are booked in the location's local time and stored in UTC. A therapist or a "
        "room is never double-booked; no session goes beyond the referral's authorized visits "
        "or after its expiry (409, with the reason)."
    ),
)
STAFF = ("admin", "therapist", "front_desk")
CLINICIANS = ("admin", "therapist")


def service() -> SessionService:
    return SessionService(db(), current_principal())


def booking() -> BookingService:
    return BookingService(db(), current_principal())


@blp.route("/plans/<string:plan_id>/sessions")
class PlanSessions(MethodView):
    @requires(*STAFF)
    @blp.response(200, schemas.SessionOut(many=True))
    def get(self, plan_id):
        """The plan's sessions (without notes)."""
        with audited("session.list", "plan", plan_id):
            return service().list_for_plan(plan_id)

    @requires(*STAFF)
    @blp.arguments(schemas.ScheduleArgs)
    @blp.response(201, schemas.SessionOut)
    @blp.alt_response(409, description="double booking, or the referral does not cover it")
    def post(self, args, plan_id):
        """Schedule a session of an active plan."""
        with audited("session.schedule", "plan", plan_id):
            return booking().schedule(plan_id, args)


@blp.route("/plans/<string:plan_id>/sessions/<string:session_id>")
class PlanSession(MethodView):
    @requires(*CLINICIANS)
    @blp.response(200, schemas.SessionDetailOut)
    def get(self, plan_id, session_id):
        """A session with its notes and measurements."""
        with audited("session.read", "session", session_id):
            return service().get(plan_id, session_id)


@blp.route("/plans/<string:plan_id>/sessions/<string:session_id>/reschedule")
class Reschedule(MethodView):
    @requires(*STAFF)
    @blp.arguments(schemas.RescheduleArgs)
    @blp.response(200, schemas.SessionOut)
    @blp.alt_response(409, description="double booking, or the referral does not cover it")
    def post(self, args, plan_id, session_id):
        """Move a scheduled session (and optionally change therapist, room or location)."""
        with audited("session.reschedule", "session", session_id):
            return booking().reschedule(plan_id, session_id, args)


@blp.route("/plans/<string:plan_id>/sessions/<string:session_id>/cancel")
class Cancel(MethodView):
    @requires(*STAFF)
    @blp.arguments(schemas.CancelArgs)
    @blp.response(200, schemas.SessionOut)
    def post(self, args, plan_id, session_id):
        """Cancel a scheduled session (by the patient or the clinic)."""
        with audited("session.cancel", "session", session_id):
            return service().cancel(plan_id, session_id, args["cancelled_by"], args["reason"])


@blp.route("/plans/<string:plan_id>/sessions/<string:session_id>/no-show")
class NoShow(MethodView):
    @requires(*STAFF)
    @blp.response(200, schemas.SessionOut)
    def post(self, plan_id, session_id):
        """Record that the patient did not come (once the session has started)."""
        with audited("session.no_show", "session", session_id):
            return service().no_show(plan_id, session_id)


@blp.route("/plans/<string:plan_id>/sessions/<string:session_id>/complete")
class Complete(MethodView):
    @requires(*CLINICIANS)
    @blp.arguments(schemas.CompleteSessionArgs)
    @blp.response(200, schemas.SessionDetailOut)
    @blp.alt_response(422, description="the record breaks the plan's precautions")
    def post(self, args, plan_id, session_id):
        """Record the session: SOAP notes, techniques, areas, pressure, response, measurements."""
        with audited("session.complete", "session", session_id):
            return service().complete(plan_id, session_id, args)


@blp.route("/sessions")
class Calendar(MethodView):
    @requires(*STAFF)
    @blp.arguments(schemas.SessionListArgs, location="query")
    @blp.response(200, schemas.SessionOut(many=True))
    def get(self, args):
        """Sessions across plans in a time window, filtered by therapist, location or room."""
        start = args.get("start") or datetime.now(UTC)
        end = args.get("end") or start + timedelta(days=7)
        criteria = {k: args[k] for k in ("therapist_id", "location_id", "room_id") if k in args}
        with audited("session.list", "session"):
            return service().calendar(start, end, criteria, page_size(args["page_size"]))
