"""What a partner hears after acceptance: the milestones of its referral's care, and where care stands.

Intake learns them from planning's events and keeps each on the referral (`milestones`, in the
order they arrived), as the record of what the partner was told; every status event is built
from that record (native data in `events.py`, the FHIR Task in `fhir_task`):

| planning event | milestone | the partner's status event |
| --- | --- | --- |
| `plan.activated` | `plan_approved` (the plan of care) | `referral.plan_approved` |
| `progress.updated` | `progress_reported` (the outcome measures so far) | `referral.progress_reported` |
| `plan.completed`, `plan.discontinued` | `discharged` (completed or stopped, the outcomes) | `referral.discharged` |

Only what the prescriber is owed is kept: the plan's techniques, sessions and goals, and the
outcome measures; never screening, notes or the clinic's plan ids. Where care stands is
computed from every milestone kept, not from the latest to arrive, so a progress report that
is redelivered after the discharge never moves the referral back to "in progress".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

PLAN_APPROVED = "plan_approved"
PROGRESS_REPORTED = "progress_reported"
DISCHARGED = "discharged"

OF_PLANNING_EVENT = {
    "plan.activated": PLAN_APPROVED,
    "progress.updated": PROGRESS_REPORTED,
    "plan.completed": DISCHARGED,
    "plan.discontinued": DISCHARGED,
}
"""The planning events a partner hears about, and the milestone each is."""

STATUS_TYPE = {
    PLAN_APPROVED: "referral.plan_approved",
    PROGRESS_REPORTED: "referral.progress_reported",
    DISCHARGED: "referral.discharged",
}
"""The partner's status event type of each milestone."""

ACCEPTED, IN_PROGRESS, COMPLETED, DISCONTINUED = (
    "accepted", "in_progress", "completed", "discontinued",
)  # fmt: skip
CARE_STATUSES = (ACCEPTED, IN_PROGRESS, COMPLETED, DISCONTINUED)

MEASURE_FIELDS = (
    "measure", "baseline", "latest", "change", "percent_change", "clinically_improved",
    "target", "goal_met",
)  # fmt: skip


def milestone(event_type: str, data: Mapping[str, Any], key: str, at: datetime) -> dict[str, Any]:
    """The milestone a planning event is, as kept on the referral (JSON values only).

    `data` is the event's data as its payload schema loaded it; `key` the event's idempotency
    key (a milestone is kept once per event), `at` when it happened (the event's time).
    """
    kind = OF_PLANNING_EVENT[event_type]
    kept: dict[str, Any] = {"event": key, "kind": kind, "at": utc_text(at)}
    if kind == PLAN_APPROVED:
        summary = data["summary"]
        kept["plan"] = {
            "techniques": list(summary["techniques"]),
            "planned_sessions": summary["planned_sessions"],
            "frequency_per_week": summary["frequency_per_week"],
            "goals": [
                {k: goal[k] for k in ("measure", "baseline", "target")} for goal in summary["goals"]
            ],
        }
        return kept
    kept["sessions_completed"] = data["sessions_completed"]
    kept["measures"] = [{k: m.get(k) for k in MEASURE_FIELDS} for m in data["measures"]]
    if kind == DISCHARGED:
        kept["outcome"] = COMPLETED if event_type == "plan.completed" else DISCONTINUED
        kept["reason"] = data["reason"]
    return kept


def care_status(milestones: Sequence[Mapping[str, Any]]) -> str:
    """Where care stands after these milestones: accepted, in_progress, completed or discontinued."""
    discharge = next((m for m in milestones if m["kind"] == DISCHARGED), None)
    if discharge is not None:
        return str(discharge["outcome"])
    return IN_PROGRESS if milestones else ACCEPTED


def of_kind(milestones: Sequence[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    """The milestones of one kind; progress reports in the order of their sessions."""
    found = [m for m in milestones if m["kind"] == kind]
    if kind == PROGRESS_REPORTED:
        found.sort(key=lambda m: (m["sessions_completed"], m["at"]))
    return found


def has_event(milestones: Sequence[Mapping[str, Any]], key: str) -> bool:
    return any(m["event"] == key for m in milestones)


def utc_text(at: datetime) -> str:
    """An aware time as FHIR and JSON read it: `2026-11-28T14:03:11Z` (UTC, whole seconds)."""
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
