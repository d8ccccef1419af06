"""What the use cases return: plans, progress and sessions as plain data for the API's schemas
(api/schemas.py: `PlanSchema`, `ProgressSchema`, `SessionSchema`, `SessionDetailSchema`).

Each object's own id is `<resource>_id` (`plan_id`, `session_id`), as in the events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from services.planning.domain.plan_document import (
    last_change_of,
    measure_points,
    measures_payload,
    progress_of,
    sessions_completed,
    visits_used,
)
from services.planning.domain.referral_tracking import days_remaining, visits_remaining
from services.planning.domain.scheduling import zone


def visits(plan: Mapping[str, Any]) -> dict[str, int]:
    authorized = (plan.get("referral") or {}).get("authorized_visits", 0)
    used = visits_used(plan)
    return {"used": used, "authorized": authorized, "remaining": visits_remaining(used, authorized)}


def plan_answer(plan: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("referral_id", "patient_id", "location_id", "intake_id", "status", "version")
    return {
        "plan_id": plan["_id"],
        **{k: plan.get(k) for k in keys},
        "reasons": plan.get("reasons", []),
        "awaiting": plan.get("awaiting", []),
        "content": plan.get("content"),
        "referral": plan.get("referral"),
        "baseline": plan.get("baseline", {}),
        "visits": visits(plan) if plan.get("referral") else None,
        "sessions_completed": sessions_completed(plan),
        "closed": plan.get("closed"),
        "last_change": last_change_of(plan),
        "created_at": plan.get("created_at"),
        "updated_at": plan.get("updated_at"),
    }


def progress_answer(
    plan: Mapping[str, Any], today: date, reassessment: Mapping[str, Any]
) -> dict[str, Any]:
    progress = progress_of(plan)
    expires_on = date.fromisoformat(plan["referral"]["expires_on"])
    return {
        "plan_id": plan["_id"],
        "measures": [
            {**m, "points": measure_points(plan, m["measure"])} for m in measures_payload(progress)
        ],
        "improved": list(progress.improved_measures),
        "goals_met": list(progress.goals_met),
        "all_goals_met": progress.all_goals_met,
        "sessions_completed": sessions_completed(plan),
        "visits": visits(plan),
        "days_remaining": days_remaining(today, expires_on),
        "reassessment": dict(reassessment),
    }


def session_answer(
    plan: Mapping[str, Any], session: Mapping[str, Any], detail: bool = False
) -> dict[str, Any]:
    local = session["starts_at"].astimezone(zone(session["location_tz"]))
    answer = {
        **{k: session.get(k) for k in SESSION_FIELDS},
        "plan_id": plan["_id"],
        "patient_id": plan.get("patient_id"),
        "starts_at_local": local.isoformat(),
    }
    if detail:
        answer |= {k: session.get(k) for k in ("record", "completed_at")}
        answer["measurements"] = session.get("measurements", [])
    return answer


SESSION_FIELDS: Sequence[str] = (
    "session_id",
    "location_id",
    "location_name",
    "location_tz",
    "therapist_id",
    "room_id",
    "starts_at",
    "ends_at",
    "duration_minutes",
    "status",
    "booked_by",
    "cancelled_by",
    "cancel_reason",
)
