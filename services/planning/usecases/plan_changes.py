"""State changes of a plan, as one write each: the fields it sets, its history entry, its events.

Used by the HTTP use cases and the event handlers alike, so a plan discontinued by a referral
cancellation and one discontinued by a therapist change the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from services.planning import events
from services.planning.domain.plan_lifecycle import HistoryEntry, change_status
from shared.events import outbox

TRACKED_STATUSES = ("held", "draft", "active")  # plans whose referral alerts are tracked


@dataclass
class Change:
    """Top-level fields to set (and unset), a history entry to append, and the events caused."""

    fields: dict[str, Any]
    events: list[outbox.Outgoing] = field(default_factory=list)
    history: dict[str, Any] | None = None
    unset: tuple[str, ...] = ()

    def update(self) -> dict[str, dict[str, Any]]:
        """As a MongoDB update of the stored plan (whose ``_id`` never changes)."""
        fields = {k: v for k, v in self.fields.items() if k != "_id"}
        update: dict[str, dict[str, Any]] = {"$set": fields} if fields else {}
        if self.history is not None:
            update["$push"] = {"history": self.history}
        if self.unset:
            update["$unset"] = {name: "" for name in self.unset}
        return update


def plan_view(plan: Mapping[str, Any]) -> dict[str, Any]:
    """What the lifecycle rules see and what history keeps: status, version and content."""
    return {"status": plan["status"], "version": plan.get("version", 0), **plan.get("content", {})}


def history_document(entry: HistoryEntry) -> dict[str, Any]:
    return asdict(entry) | {"snapshot": dict(entry.snapshot)}


def content_of(view: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in ("status", "version")}


def combine(first: Change, then: Change) -> Change:
    """Two changes as one write: ``then`` computed on the plan as ``first`` leaves it (so where
    both touch a field, ``then`` wins)."""
    merged = {**first.fields, **then.fields}
    fields = {k: v for k, v in merged.items() if k not in then.unset}
    unset = tuple(n for n in dict.fromkeys((*first.unset, *then.unset)) if n not in then.fields)
    return Change(fields, [*first.events, *then.events], first.history or then.history, unset)


def applied(plan: Mapping[str, Any], change: Change) -> dict[str, Any]:
    """The plan as it will be once ``change`` is written."""
    after = {**plan, **change.fields}
    for name in change.unset:
        after.pop(name, None)
    return after


def close(plan: Mapping[str, Any], target: str, reason: str, by: str, now: datetime) -> Change:
    """Complete or discontinue: a new version, future sessions cancelled by the clinic."""
    changed = change_status(plan_view(plan), target, by, now)
    sessions, cancelled = cancel_future_sessions(plan.get("sessions", ()), now, reason)
    fields = {
        "status": target,
        "version": changed.plan["version"],
        "sessions": sessions,
        "closed": {"reason": reason, "by": by, "at": now},
    }
    after = {**plan, **fields}
    outgoing = [events.session_event("session.cancelled", after, s) for s in cancelled]
    outgoing.append(events.closed(f"plan.{target}", after, reason))
    return Change(
        fields, outgoing, history_document(changed.history_entry), unset=("referral_check_at",)
    )


def cancel_future_sessions(
    sessions: Sequence[Mapping[str, Any]], now: datetime, reason: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """All sessions, with the scheduled ones still to come cancelled by the clinic; and those."""
    updated, cancelled = [], []
    for session in sessions:
        if session["status"] == "scheduled" and session["starts_at"] > now:
            session = {
                **session,
                "status": "cancelled",
                "cancelled_by": "clinic",
                "cancel_reason": reason,
                "updated_at": now,
            }
            cancelled.append(session)
        updated.append(dict(session))
    return updated, cancelled
