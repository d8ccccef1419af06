"""Use cases on sessions once booked: read, the calendar, cancel, no-show, complete with notes
and measurements (booking itself: ``session_booking``).

Sessions live inside their plan's document, so each change is one guarded write of the plan
carrying the session's event (and, on completion, the progress event).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.database import Database

from services.planning import events
from services.planning.domain.condition_tables import DEFAULT_TABLES, ConditionTables
from services.planning.domain.plan_lifecycle import InvalidTransition
from services.planning.domain.scheduling import session_transition
from services.planning.domain.session_record import (
    SessionRecordError,
    record_problems,
    scored_measurements,
)
from services.planning.errors import Conflict, Invalid, NotFound
from services.planning.plan_changes import Change
from services.planning.plan_views import find_session
from services.planning.plans_service import Clock, PlanService
from services.planning.resources import session_resource
from services.planning.session_changes import completion, in_calendar, replace_session
from services.planning.storage.plans import Plans
from shared.web.auth import Principal


class SessionService:
    def __init__(
        self,
        db: Database,
        principal: Principal,
        clock: Clock = lambda: datetime.now(UTC),
        tables: ConditionTables = DEFAULT_TABLES,
    ) -> None:
        self.db = db
        self.principal = principal
        self.clock = clock
        self.tables = tables
        self.plans = Plans(db, principal.tenant_id)
        self.plan_service = PlanService(db, principal, clock, tables)

    # --- reads -----------------------------------------------------------------------------

    def list_for_plan(self, plan_id: str) -> list[dict[str, Any]]:
        plan = self.plan_service.visible(plan_id)
        return [session_resource(plan, s) for s in plan.get("sessions", ())]

    def get(self, plan_id: str, session_id: str) -> dict[str, Any]:
        plan = self.plan_service.visible(plan_id)
        return session_resource(plan, existing_session(plan, session_id), detail=True)

    def calendar(
        self, start: datetime, end: datetime, criteria: Mapping[str, str], limit: int
    ) -> list[dict[str, Any]]:
        """Sessions starting in [start, end) matching the criteria, across plans, by time."""
        if end <= start or end - start > timedelta(days=31):
            raise Invalid("choose a window of at most 31 days", {"to": ["must be after from"]})
        match = dict(criteria)
        if "room_id" in match:
            if "location_id" not in match:
                raise Invalid(
                    "a room is named within its location", {"room_id": ["give location_id too"]}
                )
            match["room_key"] = f"{match['location_id']}/{match.pop('room_id')}"
        found = []
        for plan in self.plans.with_sessions_between(match, start, end, limit):
            for session in plan["sessions"]:
                if in_calendar(session, match, start, end) and self.principal.may_see_location(
                    session["location_id"]
                ):
                    found.append(session_resource(plan, session))
        return sorted(found, key=lambda s: s["starts_at"])[:limit]

    # --- status changes --------------------------------------------------------------------

    def cancel(self, plan_id: str, session_id: str, cancelled_by: str, reason: str | None) -> dict:
        fields = {"cancelled_by": cancelled_by, "cancel_reason": reason}
        return self._transition(plan_id, session_id, "cancelled", "session.cancelled", fields)

    def no_show(self, plan_id: str, session_id: str) -> dict:
        return self._transition(plan_id, session_id, "no_show", "session.no_show", {}, started=True)

    def complete(self, plan_id: str, session_id: str, request: Mapping[str, Any]) -> dict:
        record = {k: request[k] for k in ("soap", "techniques", "areas", "pressure", "response")}
        try:
            measurements = scored_measurements(request["measurements"])
        except SessionRecordError as error:
            raise Invalid("the measurements cannot be scored", error.errors) from None

        def decide(plan: dict[str, Any]) -> Change:
            expect_active(plan, "record sessions")
            session = self._startable(plan, session_id, "completed")
            problems = record_problems(
                plan["content"],
                record["techniques"],
                record["areas"],
                record["pressure"],
                self.tables,
            )
            if problems:
                raise Invalid("the session record breaks the plan's precautions", problems)
            now = self.clock()
            done = {
                **session,
                "status": "completed",
                "record": record,
                "measurements": measurements,
                "completed_at": now,
                "updated_at": now,
            }
            return completion(plan, done)

        after = self.plan_service.change(plan_id, decide)
        return session_resource(after, existing_session(after, session_id), detail=True)

    def _transition(
        self,
        plan_id: str,
        session_id: str,
        target: str,
        event_type: str,
        fields: Mapping[str, Any],
        started: bool = False,
    ) -> dict[str, Any]:
        def decide(plan: dict[str, Any]) -> Change:
            session = (
                self._startable(plan, session_id, target)
                if started
                else self._session_in(plan, session_id, target)
            )
            changed = {**session, **fields, "status": target, "updated_at": self.clock()}
            sessions = replace_session(plan, changed)
            event = events.session_event(event_type, {**plan, "sessions": sessions}, changed)
            return Change({"sessions": sessions}, [event])

        after = self.plan_service.change(plan_id, decide)
        return session_resource(after, existing_session(after, session_id))

    def _session_in(self, plan: Mapping[str, Any], session_id: str, target: str) -> dict[str, Any]:
        session = existing_session(plan, session_id)
        try:
            session_transition(session["status"], target)
        except InvalidTransition as error:
            raise Conflict(str(error)) from None
        return session

    def _startable(self, plan: Mapping[str, Any], session_id: str, target: str) -> dict[str, Any]:
        session = self._session_in(plan, session_id, target)
        if session["starts_at"] > self.clock():
            raise Conflict(f"the session has not started yet; it cannot be marked {target}")
        return session


def expect_active(plan: Mapping[str, Any], what: str) -> None:
    if plan["status"] != "active":
        raise Conflict(f"only an active plan can {what}; this plan is {plan['status']}")


def existing_session(plan: Mapping[str, Any], session_id: str) -> dict[str, Any]:
    session = find_session(plan, session_id)
    if session is None:
        raise NotFound(f"no session {session_id!r} in plan {plan['_id']!r}")
    return session
