"""Plan states, the transitions between them, which fields may change, and version history.

``held`` (awaiting a physician's clearance) and ``cannot_plan`` (blocked by screening or an
unusable referral) come before a plan exists; ``draft`` is the therapist's proposal;
``active`` is the approved plan being delivered; ``completed`` and ``discontinued`` end it.
Every change, status included, makes a new version and keeps the previous one as a snapshot.
"""

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

VISIBLE_STATUSES = ("held", "cannot_plan", "draft", "active", "completed", "discontinued")
AWAITING_INTAKE = "awaiting_intake"
"""A referral amended or cancelled before its intake arrived: kept, but not a plan yet (not
visible through the API)."""

PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    "held": frozenset({"draft", "cannot_plan", "discontinued"}),
    "cannot_plan": frozenset(),
    "draft": frozenset({"active", "discontinued"}),
    "active": frozenset({"completed", "discontinued"}),
    "completed": frozenset(),
    "discontinued": frozenset(),
}

# Draft: anything the therapist plans. Active: what re-assessment may change; dates, counts
# and frequency stay as approved, because they were checked against the referral.
EDITABLE_FIELDS: dict[str, frozenset[str]] = {
    "draft": frozenset(
        {
            "techniques",
            "precautions",
            "treatment_areas",
            "session_minutes",
            "frequency_per_week",
            "planned_sessions",
            "start_on",
            "end_on",
            "goals",
            "notes",
        }
    ),
    "active": frozenset({"techniques", "goals", "notes"}),
}


class InvalidTransition(ValueError):
    """A state change the transition table does not allow; the message says which."""


class EditNotAllowed(ValueError):
    """Fields that may not be changed in the plan's current status; the message lists them."""


def transition(
    current: str,
    target: str,
    table: Mapping[str, frozenset[str]] = PLAN_TRANSITIONS,
    kind: str = "plan",
) -> str:
    """Return ``target`` if the table allows current -> target, else raise InvalidTransition."""
    for state in (current, target):
        if state not in table:
            raise InvalidTransition(f"unknown {kind} state {state!r}; known: {', '.join(table)}")
    if target in table[current]:
        return target
    allowed = ", ".join(sorted(table[current])) or "none, it is final"
    raise InvalidTransition(
        f"a {kind} cannot go from {current!r} to {target!r} (allowed from {current!r}: {allowed})"
    )


def editable_fields(status: str) -> frozenset[str]:
    return EDITABLE_FIELDS.get(status, frozenset())


def check_edit(status: str, fields: set[str] | frozenset[str]) -> None:
    refused = sorted(set(fields) - editable_fields(status))
    if refused:
        raise EditNotAllowed(f"a {status!r} plan does not allow changing: {', '.join(refused)}")


@dataclass(frozen=True)
class HistoryEntry:
    """A superseded version: the plan as it was, and who replaced it, when and with what."""

    version: int
    snapshot: Mapping[str, Any]
    changed_fields: tuple[str, ...]
    changed_by: str
    changed_at: datetime


@dataclass(frozen=True)
class PlanChange:
    plan: dict[str, Any]
    history_entry: HistoryEntry


def record_change(
    plan: Mapping[str, Any], changes: Mapping[str, Any], changed_by: str, changed_at: datetime
) -> PlanChange:
    """The plan with ``changes`` applied and ``version`` + 1, and the entry keeping the old one.

    ``plan`` must carry ``version``; its ``history`` key, if any, is not copied into snapshots.
    """
    snapshot = copy.deepcopy({k: v for k, v in plan.items() if k != "history"})
    entry = HistoryEntry(
        version=plan["version"],
        snapshot=snapshot,
        changed_fields=tuple(sorted(changes)),
        changed_by=changed_by,
        changed_at=changed_at,
    )
    updated = copy.deepcopy({**plan, **changes}) | {"version": plan["version"] + 1}
    return PlanChange(plan=updated, history_entry=entry)


def edit_plan(
    plan: Mapping[str, Any], changes: Mapping[str, Any], changed_by: str, changed_at: datetime
) -> PlanChange | None:
    """Apply field edits allowed in the plan's status; None when nothing actually changes."""
    effective = {k: v for k, v in changes.items() if plan.get(k) != v}
    if not effective:
        return None
    check_edit(plan["status"], set(effective))
    return record_change(plan, effective, changed_by, changed_at)


def change_status(
    plan: Mapping[str, Any], target: str, changed_by: str, changed_at: datetime
) -> PlanChange:
    """Move the plan to ``target`` (raising InvalidTransition if not allowed), as a new version."""
    status = transition(plan["status"], target)
    return record_change(plan, {"status": status}, changed_by, changed_at)
