"""Use cases on sessions once booked: list, read, the calendar, cancel, no-show, complete with
notes and measurements (booking itself: `usecases/booking.py`).

Sessions live inside their plan's document, so each change is one guarded write of the plan
carrying the session's event (and, on completion, the progress event).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.planning import events
from services.planning.bootstrap import Deps
from services.planning.domain.plan_document import progress_of, replace_session
from services.planning.domain.plan_lifecycle import InvalidTransition
from services.planning.domain.progress import newly_improved
from services.planning.domain.scheduling import session_transition
from services.planning.domain.session_record import (
    SessionRecordError,
    record_problems,
    scored_measurements,
)
from services.planning.repository.plans import Plans
from services.planning.usecases.answers import session_answer
from services.planning.usecases.plan_access import existing_session, expect_active, visible_plan
from services.planning.usecases.plan_changes import Change, change_plan
from shared.errors import Conflict, Invalid
from shared.paging import Page, PageRequest
from shared.web.auth import Principal

RECORD_FIELDS = ("soap", "techniques", "areas", "pressure", "response")

# --- reads -------------------------------------------------------------------------------------


def list_plan_sessions(
    deps: Deps, principal: Principal, plan_id: str, request: PageRequest
) -> Page[dict[str, Any]]:
    """The plan's sessions (without notes), in the order they were booked."""
    plan = visible_plan(deps, principal, plan_id)
    sessions = [session_answer(plan, s) for s in plan.get("sessions", ())]
    return Page.of_list(sessions, request)


def get_session(deps: Deps, principal: Principal, plan_id: str, session_id: str) -> dict:
    plan = visible_plan(deps, principal, plan_id)
    return session_answer(plan, existing_session(plan, session_id), detail=True)


def list_sessions(
    deps: Deps,
    principal: Principal,
    start: datetime,
    end: datetime,
    criteria: Mapping[str, str],
    request: PageRequest,
) -> Page[dict[str, Any]]:
    """The calendar: sessions starting in [start, end) across plans, matching ``criteria``
    (therapist_id, location_id, room_id within its location), at locations the principal may
    see, by starting time."""
    match = dict(criteria)
    if "room_id" in match:
        match["room_key"] = f"{match['location_id']}/{match.pop('room_id')}"
    found = [
        session_answer(plan, session)
        for plan in Plans(deps.db, principal.tenant_id).with_sessions_between(match, start, end)
        for session in plan["sessions"]
        if _in_calendar(session, match, start, end)
        and principal.may_see_location(session["location_id"])
    ]
    found.sort(key=lambda s: (s["starts_at"], s["session_id"]))
    return Page.of_list(found, request)


def _in_calendar(
    session: Mapping[str, Any], match: Mapping[str, Any], start: datetime, end: datetime
) -> bool:
    return start <= session["starts_at"] < end and all(
        session.get(k) == v for k, v in match.items()
    )


# --- status changes ----------------------------------------------------------------------------


def cancel_session(
    deps: Deps,
    principal: Principal,
    plan_id: str,
    session_id: str,
    cancelled_by: str,
    reason: str | None,
) -> dict[str, Any]:
    fields = {"cancelled_by": cancelled_by, "cancel_reason": reason}
    return _transition(deps, principal, plan_id, session_id, "cancelled", fields)


def mark_no_show(deps: Deps, principal: Principal, plan_id: str, session_id: str) -> dict:
    return _transition(deps, principal, plan_id, session_id, "no_show", {}, started=True)


def complete_session(
    deps: Deps, principal: Principal, plan_id: str, session_id: str, request: Mapping[str, Any]
) -> dict[str, Any]:
    """Record the session (notes, techniques, areas, pressure, response, measurements) within
    the plan's precautions; the progress event goes out with it."""
    record = {k: request[k] for k in RECORD_FIELDS}
    try:
        measurements = scored_measurements(request["measurements"])
    except SessionRecordError as error:
        raise Invalid(error.errors, "the measurements cannot be scored") from None

    def decide(plan: dict[str, Any]) -> Change:
        expect_active(plan, "record sessions")
        session = _session_moving_to(plan, session_id, "completed")
        _expect_started(deps, session, "completed")
        problems = record_problems(
            plan["content"],
            record["techniques"],
            record["areas"],
            record["pressure"],
            deps.tables,
        )
        if problems:
            raise Invalid(problems, "the session record breaks the plan's precautions")
        now = deps.clock()
        done = {
            **session,
            "status": "completed",
            "record": record,
            "measurements": measurements,
            "completed_at": now,
            "updated_at": now,
        }
        return _completion(plan, done)

    after = change_plan(deps, principal, plan_id, decide)
    return session_answer(after, existing_session(after, session_id), detail=True)


def _completion(plan: Mapping[str, Any], done: Mapping[str, Any]) -> Change:
    """The session completed, its measurements added to the plan's, and the progress event."""
    taken = [
        {
            "measure": m["measure"],
            "score": m["score"],
            "taken_at": done["starts_at"],
            "session_id": done["session_id"],
        }
        for m in done["measurements"]
    ]
    before = progress_of(plan)
    sessions = replace_session(plan, done)
    measurements = [*plan.get("measurements", ()), *taken]
    after = {**plan, "sessions": sessions, "measurements": measurements}
    announced = set(plan.get("improved", ()))
    newly = [m for m in newly_improved(before, progress_of(after)) if m not in announced]
    improved = sorted(announced | set(newly))
    after["improved"] = improved
    outgoing = [
        events.session_event("session.completed", after, done),
        events.progress_updated(after, newly),
    ]
    return Change(
        {"sessions": sessions, "measurements": measurements, "improved": improved}, outgoing
    )


def _transition(
    deps: Deps,
    principal: Principal,
    plan_id: str,
    session_id: str,
    target: str,
    fields: Mapping[str, Any],
    started: bool = False,
) -> dict[str, Any]:
    def decide(plan: dict[str, Any]) -> Change:
        session = _session_moving_to(plan, session_id, target)
        if started:
            _expect_started(deps, session, target)
        changed = {**session, **fields, "status": target, "updated_at": deps.clock()}
        sessions = replace_session(plan, changed)
        event = events.session_event(f"session.{target}", {**plan, "sessions": sessions}, changed)
        return Change({"sessions": sessions}, [event])

    after = change_plan(deps, principal, plan_id, decide)
    return session_answer(after, existing_session(after, session_id))


def _session_moving_to(plan: Mapping[str, Any], session_id: str, target: str) -> dict[str, Any]:
    """The session, if its status allows ``target``."""
    session = existing_session(plan, session_id)
    try:
        session_transition(session["status"], target)
    except InvalidTransition as error:
        raise Conflict(str(error)) from None
    return session


def _expect_started(deps: Deps, session: Mapping[str, Any], target: str) -> None:
    if session["starts_at"] > deps.clock():
        raise Conflict(f"the session has not started yet; it cannot be marked {target}")
