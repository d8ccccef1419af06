"""Booking sessions: schedule and reschedule, in the location's local time, checked against the
referral's authorization and against double booking.

A therapist, or a room of a location, may not have two overlapping sessions (cancelled ones
aside); neither may the patient. The overlap check is a query on ``tenant_therapist_sessions`` /
``tenant_room_sessions`` (tenant, therapist or room, start); because a query and a write are two
steps, booking runs under the clinic's booking lease (``repository/booking_leases.py``), so no two
bookings of one clinic are checked and written at the same time. The authorization check
(visits, expiry) is on the plan's own document, guarded by its ``rev``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from services.planning import events
from services.planning.bootstrap import Deps
from services.planning.domain.plan_document import (
    referral_of,
    replace_session,
    session_of,
    visits_used,
)
from services.planning.domain.scheduling import (
    LONGEST_SESSION_MINUTES,
    LocalTimeError,
    check_authorization,
    find_conflicts,
    room_problem,
    to_utc,
    zone,
)
from services.planning.repository.booking_leases import booking_lease
from services.planning.repository.plans import Plans
from services.planning.usecases.answers import session_answer
from services.planning.usecases.plan_access import existing_session, expect_active, visible_plan
from services.planning.usecases.plan_changes import Change, change_plan
from services.planning.usecases.referral_tracking import check_context, with_referral_check
from shared import replicas
from shared.errors import Conflict, Forbidden, Invalid
from shared.ids import new_id
from shared.replicas import Location
from shared.web.auth import Principal

BACKDATE_LIMIT = timedelta(days=14)  # sessions that took place may be entered this late
Decide = Callable[[dict[str, Any]], Change]


def schedule_session(
    deps: Deps, principal: Principal, plan_id: str, request: Mapping[str, Any]
) -> dict[str, Any]:
    """Book a session of an active plan at the location's local time."""
    plan = visible_plan(deps, principal, plan_id)
    location = _location(deps, principal, request.get("location_id") or plan["location_id"])
    start = _start(deps, request["starts_at_local"], location)
    minutes = request.get("duration_minutes") or (plan.get("content") or {}).get(
        "session_minutes", 60
    )
    where = placement(location, request["therapist_id"], request.get("room_id"), start, minutes)
    session = _new_session(where, deps.clock())

    def decide(plan: dict[str, Any]) -> Change:
        expect_active(plan, "schedule sessions")
        sessions = [*plan.get("sessions", ()), session]
        return _booking(deps, principal, plan, session, sessions, "session.scheduled")

    return session_answer(_under_lease(deps, principal, plan_id, decide), session)


def reschedule_session(
    deps: Deps, principal: Principal, plan_id: str, session_id: str, request: Mapping[str, Any]
) -> dict[str, Any]:
    """Move a scheduled session (and optionally change therapist, room or location)."""
    plan = visible_plan(deps, principal, plan_id)
    current = existing_session(plan, session_id)
    location = _location(deps, principal, request.get("location_id") or current["location_id"])
    start = _start(deps, request["starts_at_local"], location)
    moved = {
        **current,
        **placement(
            location,
            request.get("therapist_id") or current["therapist_id"],
            request.get("room_id", current.get("room_id")),
            start,
            request.get("duration_minutes") or current["duration_minutes"],
        ),
        "updated_at": deps.clock(),
    }

    def decide(plan: dict[str, Any]) -> Change:
        expect_active(plan, "reschedule sessions")
        before = existing_session(plan, session_id)
        if before["status"] != "scheduled":
            raise Conflict(f"a {before['status']} session cannot be rescheduled")
        sessions = replace_session(plan, moved)
        previous = events.utc_text(before["starts_at"])
        return _booking(
            deps,
            principal,
            plan,
            moved,
            sessions,
            "session.rescheduled",
            previous_starts_at=previous,
        )

    return session_answer(_under_lease(deps, principal, plan_id, decide), moved)


def _under_lease(deps: Deps, principal: Principal, plan_id: str, decide: Decide) -> dict:
    """The booking's change, written while this clinic's bookings wait for it."""
    with booking_lease(deps.db, principal.tenant_id):
        return change_plan(deps, principal, plan_id, decide)


def _booking(
    deps: Deps,
    principal: Principal,
    plan: Mapping[str, Any],
    session: Mapping[str, Any],
    sessions: list[dict[str, Any]],
    event_type: str,
    **extra: Any,
) -> Change:
    """A booking's checks (the referral covers it, nobody is double-booked) and its change: the
    plan's sessions (``sessions``, the booked one among them), its event, the referral alerts."""
    others = [s for s in plan.get("sessions", ()) if s["session_id"] != session["session_id"]]
    _check_authorized(plan, session, counted_others=visits_used({"sessions": others}))
    _check_free(deps, principal, plan, session)
    event = events.session_event(event_type, {**plan, "sessions": sessions}, session, **extra)
    change = Change({"sessions": sessions}, [event])
    return with_referral_check(plan, change, deps.clock(), check_context(deps, plan))


def placement(
    location: Location, therapist_id: str, room_id: str | None, start: datetime, minutes: int
) -> dict[str, Any]:
    """Where, when and with whom a session takes place (rooms are named within a location: a
    room the location does not have is refused, 422 under `room_id`)."""
    if problem := room_problem(location.room_ids, room_id, location.name):
        raise Invalid({"room_id": [problem]}, "unknown room")
    return {
        "location_id": location.location_id,
        "location_name": location.name,
        "location_tz": location.timezone,
        "therapist_id": therapist_id,
        "room_id": room_id,
        "room_key": f"{location.location_id}/{room_id}" if room_id else None,
        "starts_at": start,
        "ends_at": start + timedelta(minutes=minutes),
        "duration_minutes": minutes,
    }


def _new_session(where: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "session_id": new_id("ses"),
        **where,
        "status": "scheduled",
        "booked_by": "staff",
        "booked_at": now,
        "cancelled_by": None,
        "updated_at": now,
    }


def _location(deps: Deps, principal: Principal, location_id: str) -> Location:
    location = replicas.find_location(deps.db, principal.tenant_id, location_id)
    if location is None:
        raise Invalid({"location_id": [f"no location {location_id!r}"]}, "unknown location")
    if not principal.may_see_location(location_id):
        raise Forbidden(f"you may not book sessions at location {location_id!r}")
    return location


def _start(deps: Deps, local: datetime, location: Location) -> datetime:
    try:
        start = to_utc(local, location.timezone)
    except LocalTimeError as error:
        raise Invalid(
            {"starts_at_local": [str(error)]}, "the local time cannot be booked"
        ) from None
    if start < deps.clock() - BACKDATE_LIMIT:
        limit = f"{BACKDATE_LIMIT.days} days"
        raise Invalid(
            {"starts_at_local": [f"a session that took place may be entered up to {limit} later"]},
            "too far in the past",
        )
    return start


def _check_authorized(
    plan: Mapping[str, Any], session: Mapping[str, Any], counted_others: int
) -> None:
    referral = referral_of(plan)
    problems = check_authorization(
        counted_others,
        referral.authorized_visits,
        session["starts_at"],
        referral.expires_on,
        session["location_tz"],
    )
    starts_on = session["starts_at"].astimezone(zone(session["location_tz"])).date()
    if starts_on < referral.valid_from:
        problems.append(f"the referral is valid from {referral.valid_from.isoformat()}")
    if problems:
        raise Conflict("the referral does not cover this session", {"starts_at_local": problems})


def _check_free(
    deps: Deps, principal: Principal, plan: Mapping[str, Any], session: Mapping[str, Any]
) -> None:
    """No overlap for the therapist or the room (across plans), nor for the patient."""
    candidate = session_of(session)
    nearby = Plans(deps.db, principal.tenant_id).with_sessions_near(
        session["therapist_id"],
        session.get("room_key"),
        candidate.start,
        candidate.end,
        LONGEST_SESSION_MINUTES,
    )
    others = [session_of(s) for p in nearby for s in p.get("sessions", ())]
    conflicts = find_conflicts(candidate, others)
    own = [
        f"the patient already has session {s.session_id} then"
        for s in map(session_of, plan.get("sessions", ()))
        if s.session_id != candidate.session_id
        and s.status == "scheduled"
        and s.overlaps(candidate)
    ]
    if conflicts or own:
        raise Conflict("double booking", {"starts_at_local": sorted(set(conflicts)) + own})
