"""Sessions of a plan: schedule (local time at the location), reschedule, cancel, no-show,
complete with SOAP notes and outcome measurements; and the clinic's calendar."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.planning.api.schemas import (
    PlanSessionQuerySchema,
    SessionBookSchema,
    SessionCancelSchema,
    SessionCompleteSchema,
    SessionDetailSchema,
    SessionQuerySchema,
    SessionRescheduleSchema,
    SessionSchema,
)
from services.planning.usecases import booking, sessions
from shared.web.auth import STAFF_ROLES, requires
from shared.web.paging import page_request, page_schema
from shared.web.views import View, audited, deps, principal

blp = Blueprint(
    "sessions",
    __name__,
    description=(
        "Sessions are booked in the location's local time and stored in UTC. A therapist or a "
        "room is never double-booked; no session goes beyond the referral's authorized visits "
        "or after its expiry (409, with the reason)."
    ),
)
CLINICIANS = ("admin", "therapist")
SESSION = "/plans/<string:plan_id>/sessions/<string:session_id>"


@blp.route("/plans/<string:plan_id>/sessions")
class PlanSessions(View):
    @requires(*STAFF_ROLES)
    @blp.arguments(PlanSessionQuerySchema, location="query")
    @blp.response(200, page_schema(SessionSchema))
    def get(self, args, plan_id):
        """The plan's sessions (without notes), in the order they were booked."""
        request, _ = page_request(args)
        with audited("session.list", "plan", plan_id):
            return sessions.list_plan_sessions(deps(), principal(), plan_id, request)

    @requires(*STAFF_ROLES)
    @blp.arguments(SessionBookSchema)
    @blp.response(201, SessionSchema)
    @blp.alt_response(409, description="double booking, or the referral does not cover it")
    def post(self, body, plan_id):
        """Schedule a session of an active plan."""
        with audited("session.schedule", "plan", plan_id):
            return booking.schedule_session(deps(), principal(), plan_id, body)


@blp.route(SESSION)
class PlanSession(View):
    @requires(*CLINICIANS)
    @blp.response(200, SessionDetailSchema)
    def get(self, plan_id, session_id):
        """A session with its notes and measurements."""
        with audited("session.read", "session", session_id):
            return sessions.get_session(deps(), principal(), plan_id, session_id)


@blp.route(f"{SESSION}/reschedule")
class SessionRescheduling(View):
    @requires(*STAFF_ROLES)
    @blp.arguments(SessionRescheduleSchema)
    @blp.response(200, SessionSchema)
    @blp.alt_response(409, description="double booking, or the referral does not cover it")
    def post(self, body, plan_id, session_id):
        """Move a scheduled session (and optionally change therapist, room or location)."""
        with audited("session.reschedule", "session", session_id):
            return booking.reschedule_session(deps(), principal(), plan_id, session_id, body)


@blp.route(f"{SESSION}/cancel")
class SessionCancellation(View):
    @requires(*STAFF_ROLES)
    @blp.arguments(SessionCancelSchema)
    @blp.response(200, SessionSchema)
    def post(self, body, plan_id, session_id):
        """Cancel a scheduled session (by the patient or the clinic)."""
        with audited("session.cancel", "session", session_id):
            return sessions.cancel_session(
                deps(), principal(), plan_id, session_id, body["cancelled_by"], body["reason"]
            )


@blp.route(f"{SESSION}/no-show")
class SessionNoShow(View):
    @requires(*STAFF_ROLES)
    @blp.response(200, SessionSchema)
    def post(self, plan_id, session_id):
        """Record that the patient did not come (once the session has started)."""
        with audited("session.no_show", "session", session_id):
            return sessions.mark_no_show(deps(), principal(), plan_id, session_id)


@blp.route(f"{SESSION}/complete")
class SessionCompletion(View):
    @requires(*CLINICIANS)
    @blp.arguments(SessionCompleteSchema)
    @blp.response(200, SessionDetailSchema)
    @blp.alt_response(422, description="the record breaks the plan's precautions")
    def post(self, body, plan_id, session_id):
        """Record the session: SOAP notes, techniques, areas, pressure, response, measurements."""
        with audited("session.complete", "session", session_id):
            return sessions.complete_session(deps(), principal(), plan_id, session_id, body)


@blp.route("/sessions")
class SessionCalendar(View):
    @requires(*STAFF_ROLES)
    @blp.arguments(SessionQuerySchema, location="query")
    @blp.response(200, page_schema(SessionSchema))
    def get(self, args):
        """Sessions across plans in a time window (default: the 7 days from now), by starting
        time, filtered by therapist, location or room."""
        request, filters = page_request(args)
        start, end = filters.pop("start"), filters.pop("end")
        with audited("session.list", "session"):
            return sessions.list_sessions(deps(), principal(), start, end, filters, request)
