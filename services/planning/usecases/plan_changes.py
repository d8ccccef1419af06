"""State changes of a plan, as one write each: the fields it sets, its history entry, its events.

Every use case on a plan or one of its sessions (staff requests and intake's events alike)
decides a `Change` from the plan as read and writes it with `change_plan`: one write guarded
by the plan's ``rev``, decided again from the fresh plan if another write came first. So a plan
discontinued by a referral cancellation and one discontinued by a therapist change the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.planning import events
from services.planning.bootstrap import Deps
from services.planning.domain.plan_document import (
    cancel_future_sessions,
    history_document,
    plan_view,
    version_stamp,
)
from services.planning.domain.plan_lifecycle import change_status
from services.planning.repository.plans import Plans
from services.planning.usecases.plan_access import visible_plan
from shared.events import outbox
from shared.retry import retry_on_conflict
from shared.web.auth import Principal


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

    def with_fields(self, fields: Mapping[str, Any]) -> Change:
        """The same change setting ``fields`` too (its own fields win)."""
        return Change({**fields, **self.fields}, self.events, self.history, self.unset)


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


def change_plan(
    deps: Deps,
    principal: Principal,
    plan_id: str,
    decide: Callable[[dict[str, Any]], Change | None],
) -> dict[str, Any]:
    """Read the plan (as ``principal`` may see it), decide the change, write it guarded by
    ``rev``; again from the fresh plan if it lost a race. Returns the plan as saved (as read
    when ``decide`` returns None: nothing to change)."""
    plans = Plans(deps.db, principal.tenant_id)

    def attempt() -> dict[str, Any] | None:
        plan = visible_plan(deps, principal, plan_id)
        change = decide(plan)
        if change is None:
            return plan
        if "version" in change.fields:  # a new version: who made it, and when
            stamp = version_stamp(principal.actor, principal.name, deps.clock())
            change = change.with_fields({"last_change": stamp})
        if plans.save(plan, change.update(), change.events):
            return applied(plan, change) | {"rev": plan["rev"] + 1}
        return None

    return retry_on_conflict(attempt, what=f"plan {plan_id}")


def closing(plan: Mapping[str, Any], target: str, reason: str, by: str, now: datetime) -> Change:
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
