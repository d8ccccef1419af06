"""Sessions as stored inside their plan: new ones, moved ones, completed ones (no I/O)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from services.planning import events
from services.planning.domain.progress import newly_improved
from services.planning.plan_changes import Change
from services.planning.plan_views import progress_of
from services.planning.storage.locations import Location


def placement(
    location: Location, therapist_id: str, room_id: str | None, start: datetime, minutes: int
) -> dict[str, Any]:
    """Where, when and with whom a session takes place (rooms are named within a location)."""
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


def new_session(
    request: Mapping[str, Any], location: Location, start: datetime, minutes: int, now: datetime
) -> dict[str, Any]:
    where = placement(location, request["therapist_id"], request.get("room_id"), start, minutes)
    return {
        "session_id": f"ses_{uuid.uuid4().hex}",
        **where,
        "status": "scheduled",
        "booked_by": "staff",
        "booked_at": now,
        "cancelled_by": None,
        "updated_at": now,
    }


def completion(plan: Mapping[str, Any], done: Mapping[str, Any]) -> Change:
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


def replace_session(plan: Mapping[str, Any], session: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        dict(session) if s["session_id"] == session["session_id"] else s
        for s in plan.get("sessions", ())
    ]


def in_calendar(
    session: Mapping[str, Any], match: Mapping[str, Any], start: datetime, end: datetime
) -> bool:
    return start <= session["starts_at"] < end and all(
        session.get(k) == v for k, v in match.items()
    )
