"""The events planning publishes (docs/events.md, "planning"), built from stored plan documents.

Every event's data carries ``plan_id, referral_id, patient_id, location_id``; session events
carry the session's location (its name and IANA time zone too).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from services.planning.domain.plan_document import (
    measure_points,
    measures_payload,
    progress_of,
    referrer_of,
    sessions_completed,
)
from shared.events import new_event, outbox

SERVICE = "planning"
SOURCE = "clinic/planning"


def plan_event(type_: str, plan: Mapping[str, Any], **data: Any) -> outbox.Outgoing:
    ids = {k: plan[k] for k in ("referral_id", "patient_id", "location_id")}
    event = new_event(
        type_,
        source=SOURCE,
        tenant_id=plan["tenant_id"],
        subject=plan["_id"],
        data={"plan_id": plan["_id"], **ids, **data},
    )
    return outbox.to_exchange_of(SERVICE, event)


def drafted(plan: Mapping[str, Any]) -> outbox.Outgoing:
    content = plan["content"]
    return plan_event(
        "plan.drafted",
        plan,
        techniques=[t["name"] for t in content["techniques"]],
        session_minutes=content["session_minutes"],
        frequency_per_week=content["frequency_per_week"],
        planned_sessions=content["planned_sessions"],
        start_on=content["start_on"],
        end_on=content["end_on"],
        goals=[
            {k: g[k] for k in ("measure", "baseline", "target", "due_on")} for g in content["goals"]
        ],
        version=plan["version"],
    )


def held(plan: Mapping[str, Any]) -> outbox.Outgoing:
    return plan_event("plan.held", plan, reasons=plan["reasons"], awaiting=plan["awaiting"])


def cannot_plan(plan: Mapping[str, Any]) -> outbox.Outgoing:
    return plan_event("plan.cannot_plan", plan, reasons=plan["reasons"])


def activated(plan: Mapping[str, Any]) -> outbox.Outgoing:
    content = plan["content"]
    summary = {
        "techniques": [t["name"] for t in content["techniques"]],
        "planned_sessions": content["planned_sessions"],
        "frequency_per_week": content["frequency_per_week"],
        "goals": [{k: g[k] for k in ("measure", "baseline", "target")} for g in content["goals"]],
    }
    return plan_event("plan.activated", plan, referrer=referrer_of(plan), summary=summary)


def closed(type_: str, plan: Mapping[str, Any], reason: str) -> outbox.Outgoing:
    """`plan.completed` or `plan.discontinued`, with the outcomes at closing."""
    return plan_event(
        type_,
        plan,
        referrer=referrer_of(plan),
        measures=measures_payload(progress_of(plan)),
        sessions_completed=sessions_completed(plan),
        reason=reason,
    )


def progress_updated(plan: Mapping[str, Any], newly_improved: list[str]) -> outbox.Outgoing:
    """Each measure with every measurement (`points`) and when the baseline was taken, so the
    referrer's progress report can carry the same chart as the console."""
    measures = [
        {**m, "points": [
            {"score": p["score"], "taken_at": utc_text(p["taken_at"])}
            for p in measure_points(plan, m["measure"])
        ]}
        for m in measures_payload(progress_of(plan))
    ]  # fmt: skip
    return plan_event(
        "progress.updated",
        plan,
        referrer=referrer_of(plan),
        measures=measures,
        newly_improved=newly_improved,
        sessions_completed=sessions_completed(plan),
        baseline_at=utc_text(plan["created_at"]),
    )


def session_event(
    type_: str, plan: Mapping[str, Any], session: Mapping[str, Any], **extra: Any
) -> outbox.Outgoing:
    """`session.*`; ``location_id`` is the session's location (where the patient goes)."""
    data = {
        "session_id": session["session_id"],
        "therapist_id": session["therapist_id"],
        "room_id": session.get("room_id"),
        "starts_at": utc_text(session["starts_at"]),
        "duration_minutes": session["duration_minutes"],
        "location_name": session["location_name"],
        "location_tz": session["location_tz"],
        "cancelled_by": session.get("cancelled_by"),
        "booked_by": session["booked_by"],
        **extra,
    }
    return plan_event(type_, {**plan, "location_id": session["location_id"]}, **data)


def referral_alert(
    plan: Mapping[str, Any], kind: str, remaining: int, used: int
) -> outbox.Outgoing:
    referral = plan["referral"]
    facts = {
        "expires_on": referral["expires_on"],
        "visits_used": used,
        "authorized_visits": referral["authorized_visits"],
    }
    if kind == "expired":
        return plan_event("referral.expired", plan, **facts)
    return plan_event("referral.expiring", plan, kind=kind, remaining=remaining, **facts)


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
