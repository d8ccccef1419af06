"""Plans from intake's events: an intake completed or re-screened, a referral amended or cancelled.

Each use case reads the referral's plan document, decides, and makes ONE guarded write (the
insert of a new plan, or an update) that carries the state change, its outgoing events and the
incoming event's key, so a repeated event is recognised and dropped. A write that lost a race
(the plan changed meanwhile) is decided again from the fresh document.

Order does not matter: a clearance before its intake completed, an amendment or a cancellation
before the intake (kept on an ``awaiting_intake`` document until the intake arrives) end in the
same state as in order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.planning import events
from services.planning.bootstrap import Deps
from services.planning.domain.drafting import PlanBlocked, PlanDraft, PlanHeld
from services.planning.domain.intake_stage import IntakeRecord, merge
from services.planning.domain.intake_summary import Reason
from services.planning.domain.plan_content import content_from_draft
from services.planning.domain.plan_document import amended_terms, referral_document
from services.planning.domain.plan_lifecycle import AWAITING_INTAKE, transition
from services.planning.domain.referral_tracking import TRACKED_STATUSES
from services.planning.repository.plans import Plans
from services.planning.usecases.plan_changes import Change, closing
from services.planning.usecases.referral_tracking import check_context, with_referral_check
from shared.events import Event
from shared.ids import new_id
from shared.retry import retry_on_conflict
from shared.web.auth import Principal

ATTEMPTS = 8
"""Intake's events about one referral often arrive together; more tries than a request gets."""
Outcome = PlanDraft | PlanHeld | PlanBlocked
OUTCOME_EVENTS = {"draft": events.drafted, "held": events.held, "cannot_plan": events.cannot_plan}
Decide = Callable[[dict[str, Any] | None], Change | None]


@dataclass(frozen=True)
class ReferralRef:
    """The referral an event is about; whom and where, for a plan made before its intake."""

    referral_id: str
    patient_id: str | None = None
    location_id: str | None = None


def apply_intake(deps: Deps, principal: Principal, event: Event, incoming: IntakeRecord) -> bool:
    """`intake.completed` or `intake.screening_updated`: draft, hold or block the plan, or
    reconsider a held one. False for an event already applied."""
    referral_id = incoming.basis["referral_id"]
    return _apply_once(deps, event, referral_id, lambda p: _intake(deps, principal, p, incoming))


def amend_referral(
    deps: Deps, principal: Principal, event: Event, ref: ReferralRef, terms: dict[str, Any]
) -> bool:
    """`referral.amended`: newer terms (``terms["version"]``) replace the plan's; older ones are
    ignored (False)."""
    return _apply_once(deps, event, ref.referral_id, lambda p: _amend(deps, p, ref, terms))


def cancel_referral(
    deps: Deps, principal: Principal, event: Event, ref: ReferralRef, reason: str
) -> bool:
    """`referral.cancelled`: future sessions cancelled and the plan discontinued, in one write."""
    now = deps.clock()
    return _apply_once(
        deps, event, ref.referral_id, lambda p: _cancel(p, ref, reason, principal.actor, now)
    )


# --- read, decide, write once ------------------------------------------------------------------


def _apply_once(deps: Deps, event: Event, referral_id: str, decide: Decide) -> bool:
    plans = Plans(deps.db, event.tenant_id)

    def attempt() -> bool | None:
        plan = plans.by_referral(referral_id)
        if plan is not None and event.key in plan.get("applied_events", ()):
            return False
        change = decide(plan)
        if change is None:  # nothing to change (a stale amendment)
            return False
        if plan is None:
            document = {"referral_id": referral_id, **change.fields}
            return True if plans.insert(document, change.events, event) else None
        return True if plans.save(plan, change.update(), change.events, event) else None

    return retry_on_conflict(attempt, what=f"the plan of referral {referral_id}", attempts=ATTEMPTS)


# --- intake completed / screening updated ------------------------------------------------------


def _intake(deps: Deps, principal: Principal, plan: dict | None, incoming: IntakeRecord) -> Change:
    stored = IntakeRecord.from_document(plan["intake"]) if plan and plan.get("intake") else None
    record = merge(stored, incoming)
    if plan is None or plan["status"] == AWAITING_INTAKE:
        return _first_intake(deps, principal, plan, record)
    if plan["status"] == "held":
        return _reconsider_held(deps, plan, record)
    return Change({"intake": record.to_document()})


def _first_intake(
    deps: Deps, principal: Principal, plan: dict | None, record: IntakeRecord
) -> Change:
    now, tenant_id = deps.clock(), principal.tenant_id
    plan = plan or {"_id": new_id("pln")}
    summary = record.summary(tenant_id, amended_terms(plan))
    referrer = (record.basis.get("referral") or {}).get("referrer") or {}
    fields: dict[str, Any] = {
        "_id": plan["_id"],
        "intake": record.to_document(),
        "intake_id": summary.intake_id,
        "patient_id": summary.patient_id,
        "location_id": summary.location_id,
        "intake_completed_at": _aware(summary.completed_at),
        "baseline": {b.measure: b.score for b in summary.baseline},
        "referral": plan.get("referral") or referral_document(summary.referral, referrer, 0),
        "sessions": [],
        "measurements": [],
        "improved": [],
        "alerts_sent": [],
        "history": [],
    }
    base = {**plan, **fields, "tenant_id": tenant_id, "referral_id": summary.referral_id}
    if plan.get("cancelled"):
        return _born_discontinued(base, fields, plan["cancelled"]["reason"], principal.actor)
    context = check_context(deps, base)
    today = context.today(now)
    outcome = record.outcome(tenant_id, today, amended_terms(plan), deps.tables)
    change = _outcome_change(base, outcome).with_fields(fields)
    return with_referral_check(base, change, now, context)


def _reconsider_held(deps: Deps, plan: dict, record: IntakeRecord) -> Change:
    now, context = deps.clock(), check_context(deps, plan)
    terms = amended_terms(plan)
    outcome = record.outcome(plan["tenant_id"], context.today(now), terms, deps.tables)
    fields = {"intake": record.to_document()}
    if isinstance(outcome, PlanHeld) and list(outcome.awaiting) == plan.get("awaiting"):
        return Change(fields)
    if outcome.status != "held":
        transition("held", outcome.status)
    change = _outcome_change({**plan, **fields}, outcome).with_fields(fields)
    return with_referral_check(plan, change, now, context)


def _outcome_change(plan: Mapping[str, Any], outcome: Outcome) -> Change:
    """The plan drafted, held or blocked as the intake says, with its event."""
    fields: dict[str, Any] = {"status": outcome.status}
    if isinstance(outcome, PlanDraft):
        fields |= {"content": content_from_draft(outcome), "version": 1}
        fields |= {"reasons": [], "awaiting": []}
    else:
        fields |= {"version": 0, "reasons": [_reason(r) for r in outcome.reasons]}
        fields["awaiting"] = list(outcome.awaiting) if isinstance(outcome, PlanHeld) else []
    event = OUTCOME_EVENTS[outcome.status]({**plan, **fields})
    return Change(fields, [event])


def _born_discontinued(
    plan: Mapping[str, Any], fields: dict[str, Any], reason: str, by: str
) -> Change:
    """An intake for a referral cancelled before it arrived: closed at once, visibly."""
    closed = {"status": "discontinued", "version": 0, "reasons": [], "awaiting": []}
    closed["closed"] = {"reason": reason, "by": by, "at": plan["cancelled"]["at"]}
    event = events.closed("plan.discontinued", {**plan, **closed}, reason)
    return Change({**fields, **closed}, [event], unset=("referral_check_at",))


def _reason(reason: Reason) -> dict[str, str]:
    return {
        "rule_id": reason.rule_id,
        "tier": reason.tier,
        "label": reason.label,
        "detail": reason.detail,
    }


# --- referral amended / cancelled --------------------------------------------------------------


def _amend(deps: Deps, plan: dict | None, ref: ReferralRef, terms: dict[str, Any]) -> Change | None:
    if plan is None:
        return Change(_awaiting_intake(ref) | {"referral": terms})
    current = plan.get("referral") or {}
    if current.get("version", 0) >= terms["version"]:
        return None
    change = Change({"referral": terms})
    if any(current.get(k) != terms[k] for k in ("authorized_visits", "expires_on")):
        change.fields["alerts_sent"] = []  # the alerts sent named the old terms
    if plan["status"] not in TRACKED_STATUSES:
        return change
    return with_referral_check(plan, change, deps.clock(), check_context(deps, plan))


def _cancel(plan: dict | None, ref: ReferralRef, reason: str, by: str, now: datetime) -> Change:
    cancelled = {"reason": reason, "at": now}
    if plan is None:
        return Change(_awaiting_intake(ref) | {"cancelled": cancelled})
    if plan["status"] not in TRACKED_STATUSES:
        return Change({"cancelled": cancelled})
    return closing(plan, "discontinued", reason, by, now).with_fields({"cancelled": cancelled})


def _awaiting_intake(ref: ReferralRef) -> dict[str, Any]:
    return {
        "_id": new_id("pln"),
        "status": AWAITING_INTAKE,
        "patient_id": ref.patient_id,
        "location_id": ref.location_id,
        "version": 0,
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
