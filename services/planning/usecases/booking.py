"""Booking sessions: schedule and reschedule, in the location's local time, checked against the
referral's authorization and against double booking.

A therapist, or a room of a location, may not have two overlapping sessions (cancelled ones
aside); neither may the patient. The overlap check is a query on ``tenant_therapist_sessions`` /
``tenant_room_sessions`` (tenant, therapist or room, start); because a query and a write are two
steps, booking runs under the clinic's booking lease (``storage.booking_lease``), so no two
bookings of one clinic are checked and written at the same time. The authorization check
(visits, expiry) is on the plan's own document, guarded by its ``rev``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.database import Database

from services.planning import events
from services.planning.domain.scheduling import (
    LocalTimeError,
    check_authorization,
    find_conflicts,
    to_utc,
    zone,
)
from services.planning.errors import Conflict, Forbidden, Invalid
from services.planning.plan_changes import Change, applied, combine
from services.planning.plan_views import referral_of, session_of, visits_used
from services.planning.plans_service import Clock, PlanService
from services.planning.referral_tracker import CheckContexts, referral_check
from services.planning.resources import session_resource
from services.planning.session_changes import new_session, placement, replace_session
from services.planning.sessions_service import existing_session, expect_active
from services.planning.storage.booking_lease import booking_lease
from services.planning.storage.locations import Location, find_location
from services.planning.storage.plans import Plans
from shared.web.auth import Principal

LONGEST_SESSION_MINUTES = 240  # the API refuses longer; bounds the overlap query's index range
BACKDATE_LIMIT = timedelta(days=14)  # sessions that took place may be entered this late


class BookingService:
    def __init__(
        self, db: Database, principal: Principal, clock: Clock = lambda: datetime.now(UTC)
    ) -> None:
        self.db = db
        self.principal = principal
        self.clock = clock
        self.plans = Plans(db, principal.tenant_id)
        self.plan_service = PlanService(db, principal, clock)
        self.contexts = CheckContexts(db, ttl_s=0)

    def schedule(self, plan_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        plan = self.plan_service.visible(plan_id)
        location = self._location(request.get("location_id") or plan["location_id"])
        start = self._start(request["starts_at_local"], location)
        minutes = request.get("duration_minutes") or (plan.get("content") or {}).get(
            "session_minutes", 60
        )
        session = new_session(request, location, start, minutes, self.clock())

        def decide(plan: dict[str, Any]) -> Change:
            expect_active(plan, "schedule sessions")
            self._check_authorized(plan, session, counted_others=visits_used(plan))
            self._check_free(plan, session)
            sessions = [*plan.get("sessions", ()), session]
            event = events.session_event(
                "session.scheduled", {**plan, "sessions": sessions}, session
            )
            return self._with_referral_check(plan, Change({"sessions": sessions}, [event]))

        with booking_lease(self.db, self.principal.tenant_id):
            after = self.plan_service.change(plan_id, decide)
        return session_resource(after, session)

    def reschedule(self, plan_id: str, session_id: str, request: Mapping[str, Any]) -> dict:
        plan = self.plan_service.visible(plan_id)
        current = existing_session(plan, session_id)
        location = self._location(request.get("location_id") or current["location_id"])
        start = self._start(request["starts_at_local"], location)
        moved = {
            **current,
            **placement(
                location,
                request.get("therapist_id") or current["therapist_id"],
                request.get("room_id", current.get("room_id")),
                start,
                request.get("duration_minutes") or current["duration_minutes"],
            ),
            "updated_at": self.clock(),
        }

        def decide(plan: dict[str, Any]) -> Change:
            expect_active(plan, "reschedule sessions")
            before = existing_session(plan, session_id)
            if before["status"] != "scheduled":
                raise Conflict(f"a {before['status']} session cannot be rescheduled")
            self._check_authorized(plan, moved, counted_others=visits_used(plan) - 1)
            self._check_free(plan, moved)
            sessions = replace_session(plan, moved)
            event = events.session_event(
                "session.rescheduled",
                {**plan, "sessions": sessions},
                moved,
                previous_starts_at=events.utc_text(before["starts_at"]),
            )
            return self._with_referral_check(plan, Change({"sessions": sessions}, [event]))

        with booking_lease(self.db, self.principal.tenant_id):
            after = self.plan_service.change(plan_id, decide)
        return session_resource(after, moved)

    def _location(self, location_id: str) -> Location:
        location = find_location(self.db, self.principal.tenant_id, location_id)
        if location is None:
            raise Invalid("unknown location", {"location_id": [f"no location {location_id!r}"]})
        if not self.principal.may_see_location(location_id):
            raise Forbidden(f"you may not book sessions at location {location_id!r}")
        return location

    def _start(self, local: datetime, location: Location) -> datetime:
        try:
            start = to_utc(local, location.timezone)
        except LocalTimeError as error:
            raise Invalid(
                "the local time cannot be booked", {"starts_at_local": [str(error)]}
            ) from None
        if start < self.clock() - BACKDATE_LIMIT:
            limit = f"{BACKDATE_LIMIT.days} days"
            raise Invalid(
                "too far in the past",
                {
                    "starts_at_local": [
                        f"a session that took place may be entered up to {limit} later"
                    ]
                },
            )
        return start

    def _check_authorized(
        self, plan: Mapping[str, Any], session: Mapping[str, Any], counted_others: int
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
            raise Conflict(
                "the referral does not cover this session", {"starts_at_local": problems}
            )

    def _check_free(self, plan: Mapping[str, Any], session: Mapping[str, Any]) -> None:
        """No overlap for the therapist or the room (across plans), nor for the patient."""
        candidate = session_of(session)
        nearby = self.plans.with_sessions_near(
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

    def _with_referral_check(self, plan: Mapping[str, Any], change: Change) -> Change:
        """The booking and the referral alerts it causes (visits running out), in one write."""
        after = applied(plan, change)
        return combine(change, referral_check(after, self.clock(), self.contexts.for_plan(after)))
