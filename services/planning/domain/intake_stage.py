"""What planning knows of one referral's intake, folded from its events in any order.

Intake sends "intake completed" once and "screening updated" after each clearance; both carry
the whole intake. Events may arrive twice or out of order (a clearance before its intake
completed), so the record keeps:

- the *basis*: the data of the newest event, "screening updated" being newer than "intake
  completed", and later clearances newer than earlier ones (by ``clearance.at``);
- the *cleared* rule ids: the union over every clearance seen (order does not matter).

``IntakeRecord.outcome`` applies the cleared rules to the basis and drafts: the same set of
events gives the same result whatever their order. Referral terms from a "referral amended"
event (``referral_version`` > 0) win over the terms the intake carried.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from services.planning.domain.condition_tables import DEFAULT_TABLES, ConditionTables
from services.planning.domain.drafting import PlanBlocked, PlanDraft, PlanHeld, draft_plan
from services.planning.domain.intake_summary import (
    IntakeSummary,
    InvalidIntake,
    Referral,
    with_clearances,
)

INTAKE_COMPLETED = "intake.completed"
SCREENING_UPDATED = "intake.screening_updated"
INTAKE_EVENT_TYPES = (INTAKE_COMPLETED, SCREENING_UPDATED)


@dataclass(frozen=True)
class IntakeRecord:
    basis: Mapping[str, Any]
    rank: tuple[int, str]
    cleared: frozenset[str] = frozenset()

    def to_document(self) -> dict[str, Any]:
        return {"basis": dict(self.basis), "rank": list(self.rank), "cleared": sorted(self.cleared)}

    @classmethod
    def from_document(cls, raw: Mapping[str, Any]) -> IntakeRecord:
        rank = raw["rank"]
        return cls(raw["basis"], (int(rank[0]), str(rank[1])), frozenset(raw.get("cleared", ())))

    def summary(self, tenant_id: str, amended_terms: Referral | None = None) -> IntakeSummary:
        intake = IntakeSummary.from_event_data({**self.basis, "tenant_id": tenant_id})
        if amended_terms is not None:
            intake = replace(intake, referral=amended_terms)
        return with_clearances(intake, self.cleared)

    def outcome(
        self,
        tenant_id: str,
        today: date,
        amended_terms: Referral | None = None,
        tables: ConditionTables = DEFAULT_TABLES,
    ) -> PlanDraft | PlanHeld | PlanBlocked:
        return draft_plan(self.summary(tenant_id, amended_terms), today, tables)


def read_intake_event(event_type: str, data: Mapping[str, Any], tenant_id: str) -> IntakeRecord:
    """One event as a record of its own; raise InvalidIntake naming what is malformed."""
    if event_type not in INTAKE_EVENT_TYPES:
        raise InvalidIntake(f"not an intake event: {event_type!r}")
    summary = IntakeSummary.from_event_data({**data, "tenant_id": tenant_id})
    basis = {k: v for k, v in data.items() if k != "tenant_id"}
    if event_type == INTAKE_COMPLETED:
        return IntakeRecord(basis, (0, _utc_text(summary.completed_at)))
    clearance = data.get("clearance")
    if not isinstance(clearance, Mapping):
        raise InvalidIntake("screening update is missing 'clearance'")
    rule_ids = clearance.get("rule_ids")
    if not isinstance(rule_ids, list) or not all(isinstance(r, str) for r in rule_ids):
        raise InvalidIntake("clearance 'rule_ids' must be a list of rule ids")
    try:
        cleared_at = datetime.fromisoformat(str(clearance.get("at")))
    except ValueError as error:
        raise InvalidIntake(f"clearance has an invalid 'at': {clearance.get('at')!r}") from error
    return IntakeRecord(basis, (1, _utc_text(cleared_at)), frozenset(rule_ids))


def merge(record: IntakeRecord | None, incoming: IntakeRecord) -> IntakeRecord:
    """The record after one more event: the newer basis, the union of clearances."""
    if record is None:
        return incoming
    newer = incoming if incoming.rank > record.rank else record
    return replace(newer, cleared=record.cleared | incoming.cleared)


def _utc_text(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")
