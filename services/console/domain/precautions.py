"""What a patient's screening asks of everyone who treats them, as every page shows it.

The latest intake's screening (intake's `screening`: outcome, reasons, excluded areas,
modifications, rules awaiting a physician's clearance, rules cleared) becomes one `Precautions`:
a "modify", "local", "needs clearance" or "blocked" result stands out wherever the patient
appears (templates include `_precautions.html`, which the `precautions` filter feeds). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

OUTCOME_LABELS = {
    "clear": "No precautions",
    "modify": "Modify treatment",
    "local": "Local precautions: areas to avoid",
    "needs_clearance": "Needs a physician's clearance before treatment",
    "blocked": "Do not treat: absolute contraindication",
}
STANDING_OUT = frozenset({"modify", "local", "needs_clearance", "blocked"})


@dataclass(frozen=True)
class Precautions:
    outcome: str
    label: str
    reasons: tuple[str, ...]
    excluded_areas: tuple[str, ...]
    modifications: tuple[str, ...]
    awaiting_clearance: tuple[str, ...]
    cleared: tuple[str, ...]

    @property
    def stands_out(self) -> bool:
        return self.outcome in STANDING_OUT


def reason_text(reason: Mapping[str, Any]) -> str:
    """`Anticoagulant medication: warfarin (lower back)`: the rule's label, what matched, where."""
    text = str(reason.get("label") or reason.get("rule_id") or "")
    if detail := reason.get("detail"):
        text = f"{text}: {detail}"
    if area := reason.get("body_area"):
        text = f"{text} ({area})"
    return text


def precautions_of(screening: Mapping[str, Any] | None) -> Precautions | None:
    """The precautions of one screening result; None when there is none (no intake yet)."""
    if not screening or not screening.get("outcome"):
        return None
    outcome = str(screening["outcome"])
    labels = {r.get("rule_id"): r.get("label") for r in screening.get("reasons") or []}
    return Precautions(
        outcome=outcome,
        label=OUTCOME_LABELS.get(outcome, outcome),
        reasons=tuple(reason_text(r) for r in screening.get("reasons") or []),
        excluded_areas=tuple(screening.get("excluded_areas") or ()),
        modifications=tuple(screening.get("modifications") or ()),
        awaiting_clearance=tuple(
            str(labels.get(rule) or rule) for rule in screening.get("requires_clearance_for") or ()
        ),
        cleared=tuple(screening.get("cleared") or ()),
    )


def latest_precautions(intakes: Iterable[Mapping[str, Any]]) -> Precautions | None:
    """The precautions of the patient's latest intake (`intakes` newest first, as intake lists
    them); None before any intake."""
    for intake in intakes:
        return precautions_of(intake.get("screening"))
    return None


def plan_precautions(plan: Mapping[str, Any]) -> Precautions:
    """The precautions a plan was drafted with (planning keeps what the screening asked of the
    plan: its modification notes, the areas it excludes, the rules awaiting a physician's
    clearance and the reasons), for the pages that show a plan or one of its sessions."""
    content = plan.get("content") or {}
    modifications = tuple(content.get("precautions") or ())
    excluded = tuple(content.get("excluded_areas") or ())
    awaiting = tuple(plan.get("awaiting") or ())
    reasons = tuple(reason_text(r) for r in plan.get("reasons") or ())
    if awaiting:
        outcome = "needs_clearance"
    elif excluded:
        outcome = "local"
    elif modifications or reasons:
        outcome = "modify"
    else:
        outcome = "clear"
    return Precautions(
        outcome=outcome,
        label=OUTCOME_LABELS[outcome],
        reasons=reasons,
        excluded_areas=excluded,
        modifications=modifications,
        awaiting_clearance=awaiting,
        cleared=(),
    )
