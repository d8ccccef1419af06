"""Handlers of intake's events: plans from intakes, referral amendments and cancellations.

Each handler reads the referral's plan document, decides, and makes ONE guarded write (the
insert of a new plan, or an update) that carries the state change, its outgoing events and the
incoming event's key, so a repeated event is recognised and dropped. A write that lost a race
(the plan changed meanwhile) is decided again from the fresh document.

Order does not matter: a clearance before its intake completed, an amendment or a cancellation
before the intake (kept on an ``awaiting_intake`` document until the intake arrives) end in the
same state as in order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database

from services.planning import events
from services.planning.domain.condition_tables import DEFAULT_TABLES, ConditionTables
from services.planning.domain.drafting import PlanBlocked, PlanDraft, PlanHeld
from services.planning.domain.intake_stage import (
    INTAKE_EVENT_TYPES,
    IntakeRecord,
    merge,
    read_intake_event,
)
from services.planning.domain.intake_summary import InvalidIntake, Reason, referral_terms
from services.planning.domain.plan_content import content_from_draft
from services.planning.domain.plan_lifecycle import transition
from services.planning.plan_changes import TRACKED_STATUSES, Change, applied, close, combine
from services.planning.plan_views import amended_terms, referral_document
from services.planning.referral_tracker import CheckContexts, referral_check
from services.planning.storage.plans import AWAITING_INTAKE, Plans
from shared.events import Event, Reject
from shared.replicas import LOCATION_UPSERTED, replica_handlers

ATTEMPTS = 8
SYSTEM = "system:planning"
Outcome = PlanDraft | PlanHeld | PlanBlocked
OUTCOME_EVENTS = {"draft": events.drafted, "held": events.held, "cannot_plan": events.cannot_plan}


def new_plan_id() -> str:
    return f"pln_{uuid.uuid4().hex}"


class IntakeEventHandlers:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        tables: ConditionTables = DEFAULT_TABLES,
    ) -> None:
        self.db = db
        self.clock = clock
        self.tables = tables
        self.contexts = CheckContexts(db)

    def handlers(self) -> dict[str, Callable[[Event], bool]]:
        replicas = replica_handlers(self.db.principals, self.db.locations)
        apply_location = replicas[LOCATION_UPSERTED]

        def on_location(event: Event) -> bool:
            self.contexts.forget()  # a location's time zone may have changed
            return apply_location(event)

        return {
            **replicas,
            LOCATION_UPSERTED: on_location,
            **dict.fromkeys(INTAKE_EVENT_TYPES, self.on_intake),
            "referral.amended": self.on_referral_amended,
            "referral.cancelled": self.on_referral_cancelled,
        }

    # --- handlers ---------------------------------------------------------------------------

    def on_intake(self, event: Event) -> bool:
        try:
            incoming = read_intake_event(event.type, _data(event), event.tenant_id)
        except InvalidIntake as error:
            raise Reject(str(error)) from None
        referral_id = incoming.basis["referral_id"]
        return self._apply(event, referral_id, lambda p: self._intake(p, incoming, event.tenant_id))

    def on_referral_amended(self, event: Event) -> bool:
        data = _data(event)
        version = data.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise Reject("referral.amended needs a whole 'version' of 1 or more")
        try:
            terms = referral_terms(data)
        except InvalidIntake as error:
            raise Reject(str(error)) from None
        stored = referral_document(terms, data.get("referrer") or {}, version)
        return self._apply(event, _id(data), lambda p: self._amend(p, data, stored))

    def on_referral_cancelled(self, event: Event) -> bool:
        data = _data(event)
        reason = f"referral cancelled: {data.get('reason') or 'no reason given'}"
        return self._apply(event, _id(data), lambda p: _cancel(p, data, reason, self.clock()))

    # --- read, decide, write once -----------------------------------------------------------

    def _apply(
        self, event: Event, referral_id: str, decide: Callable[[dict | None], Change | None]
    ) -> bool:
        plans = Plans(self.db, event.tenant_id)
        for _ in range(ATTEMPTS):
            plan = plans.by_referral(referral_id)
            if plan is not None and event.key in plan.get("applied_events", ()):
                return False
            change = decide(plan)
            if change is None:  # nothing to change (a stale amendment)
                return False
            if plan is None:
                document = {"referral_id": referral_id, **change.fields}
                if plans.insert(document, change.events, event):
                    return True
            elif plans.save(plan, change.update(), change.events, event):
                return True
        raise RuntimeError(f"the plan of referral {referral_id} kept changing; retrying later")

    # --- intake completed / screening updated -----------------------------------------------

    def _intake(self, plan: dict | None, incoming: IntakeRecord, tenant_id: str) -> Change:
        stored = IntakeRecord.from_document(plan["intake"]) if plan and plan.get("intake") else None
        record = merge(stored, incoming)
        if plan is None or plan["status"] == AWAITING_INTAKE:
            return self._first_intake(plan, record, tenant_id)
        if plan["status"] == "held":
            return self._reconsider_held(plan, record)
        return Change({"intake": record.to_document()})

    def _first_intake(self, plan: dict | None, record: IntakeRecord, tenant_id: str) -> Change:
        now = self.clock()
        plan = plan or {"_id": new_plan_id()}
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
            return _born_discontinued(base, fields, plan["cancelled"]["reason"])
        context = self.contexts.for_plan(base)
        outcome = record.outcome(tenant_id, context.today(now), amended_terms(plan), self.tables)
        change = _with_fields(fields, _outcome_change(base, outcome))
        return combine(change, referral_check(applied(base, change), now, context))

    def _reconsider_held(self, plan: dict, record: IntakeRecord) -> Change:
        now, context = self.clock(), self.contexts.for_plan(plan)
        terms = amended_terms(plan)
        outcome = record.outcome(plan["tenant_id"], context.today(now), terms, self.tables)
        fields = {"intake": record.to_document()}
        if isinstance(outcome, PlanHeld) and list(outcome.awaiting) == plan.get("awaiting"):
            return Change(fields)
        if outcome.status != "held":
            transition("held", outcome.status)
        change = _with_fields(fields, _outcome_change({**plan, **fields}, outcome))
        return combine(change, referral_check(applied(plan, change), now, context))

    # --- referral amended -----------------------------------------------------------------

    def _amend(
        self, plan: dict | None, data: Mapping[str, Any], stored: dict[str, Any]
    ) -> Change | None:
        if plan is None:
            return Change(_awaiting_intake(data) | {"referral": stored})
        current = plan.get("referral") or {}
        if current.get("version", 0) >= stored["version"]:
            return None
        change = Change({"referral": stored})
        if any(current.get(k) != stored[k] for k in ("authorized_visits", "expires_on")):
            change.fields["alerts_sent"] = []  # the alerts sent named the old terms
        if plan["status"] not in TRACKED_STATUSES:
            return change
        context = self.contexts.for_plan(plan)
        return combine(change, referral_check(applied(plan, change), self.clock(), context))


# --- decisions (no I/O) ----------------------------------------------------------------------


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


def _born_discontinued(plan: Mapping[str, Any], fields: dict[str, Any], reason: str) -> Change:
    """An intake for a referral cancelled before it arrived: closed at once, visibly."""
    closed = {"status": "discontinued", "version": 0, "reasons": [], "awaiting": []}
    closed["closed"] = {"reason": reason, "by": SYSTEM, "at": plan["cancelled"]["at"]}
    event = events.closed("plan.discontinued", {**plan, **closed}, reason)
    return Change({**fields, **closed}, [event], unset=("referral_check_at",))


def _with_fields(fields: Mapping[str, Any], change: Change) -> Change:
    return Change({**fields, **change.fields}, change.events, change.history, change.unset)


def _reason(reason: Reason) -> dict[str, str]:
    return {
        "rule_id": reason.rule_id,
        "tier": reason.tier,
        "label": reason.label,
        "detail": reason.detail,
    }


def _cancel(plan: dict | None, data: Mapping[str, Any], reason: str, now: datetime) -> Change:
    cancelled = {"reason": reason, "at": now}
    if plan is None:
        return Change(_awaiting_intake(data) | {"cancelled": cancelled})
    if plan["status"] not in TRACKED_STATUSES:
        return Change({"cancelled": cancelled})
    return _with_fields({"cancelled": cancelled}, close(plan, "discontinued", reason, SYSTEM, now))


def _awaiting_intake(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "_id": new_plan_id(),
        "status": AWAITING_INTAKE,
        "patient_id": data.get("patient_id"),
        "location_id": data.get("location_id"),
        "version": 0,
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _data(event: Event) -> Mapping[str, Any]:
    if not isinstance(event.data, Mapping):
        raise Reject("event data must be a JSON object")
    return event.data


def _id(data: Mapping[str, Any], name: str = "referral_id") -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value or len(value) > 200:
        raise Reject(f"event data needs '{name}' (a non-empty string)")
    return value
