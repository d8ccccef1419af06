"""The plan's content as stored and edited: a drafted plan as a document, and checked edits.

Edits name technique codes and goal targets; this module turns them into stored form (names
from the condition tables, baselines from the intake) and says what is wrong, by field, when
an edit would break a rule: one goal per baseline measure with a target at least the MCID
better than baseline; sessions, dates and frequency within the referral's authorization.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date
from typing import Any

from services.planning.domain.condition_tables import DEFAULT_TABLES, ConditionTables
from services.planning.domain.drafting import PlanDraft
from services.planning.domain.intake_summary import Referral
from services.planning.domain.progress import target_reached
from shared.clinical.outcome_measures import MEASURES, improvement_target

FieldErrors = dict[str, list[str]]


class PlanContentError(ValueError):
    """An edit that breaks a plan rule; ``errors`` maps field names to messages."""

    def __init__(self, errors: FieldErrors) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def content_from_draft(draft: PlanDraft) -> dict[str, Any]:
    """A drafted plan as stored: dates as ISO text, tuples as lists."""
    return {
        "condition_group": draft.condition_group,
        "diagnoses": [asdict(d) for d in draft.diagnoses],
        "techniques": [
            {"code": t.code, "name": t.name, "notes": list(t.notes)} for t in draft.techniques
        ],
        "precautions": list(draft.precautions),
        "excluded_areas": list(draft.excluded_areas),
        "treatment_areas": list(draft.treatment_areas),
        "session_minutes": draft.session_minutes,
        "frequency_per_week": draft.frequency_per_week,
        "planned_sessions": draft.planned_sessions,
        "start_on": draft.start_on.isoformat(),
        "end_on": draft.end_on.isoformat(),
        "goals": [
            {
                "measure": g.measure,
                "better": g.better,
                "baseline": g.baseline,
                "target": g.target,
                "due_on": g.due_on.isoformat(),
            }
            for g in draft.goals
        ],
        "notes": "",
    }


def stored_changes(
    changes: Mapping[str, Any],
    baseline: Mapping[str, float],
    tables: ConditionTables = DEFAULT_TABLES,
) -> dict[str, Any]:
    """Requested edits in stored form; raise PlanContentError for unknown codes or bad goals."""
    stored = {k: v for k, v in changes.items() if k not in ("techniques", "goals")}
    errors: FieldErrors = {}
    for key in ("start_on", "end_on"):
        if isinstance(stored.get(key), date):
            stored[key] = stored[key].isoformat()
    if "techniques" in changes:
        stored["techniques"] = _techniques(changes["techniques"], tables, errors)
    if "goals" in changes:
        stored["goals"] = _goals(changes["goals"], baseline, errors)
    if errors:
        raise PlanContentError(errors)
    return stored


def _techniques(
    requested: list[Mapping[str, Any]], tables: ConditionTables, errors: FieldErrors
) -> list[dict[str, Any]]:
    unknown = sorted({t["code"] for t in requested} - tables.techniques.keys())
    if unknown:
        errors["techniques"] = [
            f"unknown technique(s): {', '.join(unknown)}; known: {', '.join(tables.techniques)}"
        ]
        return []
    return [
        {"code": t["code"], "name": tables.techniques[t["code"]].name, "notes": t.get("notes", [])}
        for t in requested
    ]


def _goals(
    requested: list[Mapping[str, Any]], baseline: Mapping[str, float], errors: FieldErrors
) -> list[dict[str, Any]]:
    measures = [g["measure"] for g in requested]
    if sorted(measures) != sorted(baseline):
        errors["goals"] = [
            f"give exactly one goal per baseline measure ({', '.join(sorted(baseline)) or 'none'})"
        ]
        return []
    problems = [p for g in requested if (p := _goal_problem(g, baseline[g["measure"]]))]
    if problems:
        errors["goals"] = problems
    return [
        {
            "measure": g["measure"],
            "better": MEASURES[g["measure"]].better,
            "baseline": baseline[g["measure"]],
            "target": float(g["target"]),
            "due_on": g["due_on"].isoformat(),
        }
        for g in requested
    ]


def _goal_problem(goal: Mapping[str, Any], baseline: float) -> str | None:
    measure, target = goal["measure"], float(goal["target"])
    spec = MEASURES[measure]
    if not spec.score_min <= target <= spec.score_max:
        return f"{measure}: target {target:g} is outside {spec.score_min:g}-{spec.score_max:g}"
    least = improvement_target(measure, baseline)
    if not target_reached(measure, target, least):
        return (
            f"{measure}: target {target:g} is less than the MCID from baseline {baseline:g} "
            f"(at least {least:g}, {spec.better} is better)"
        )
    return None


def referral_problems(content: Mapping[str, Any], referral: Referral) -> FieldErrors:
    """Where the plan does not fit the referral's authorization (empty when it fits)."""
    start, end = date.fromisoformat(content["start_on"]), date.fromisoformat(content["end_on"])
    errors: FieldErrors = {}
    if content["planned_sessions"] > referral.authorized_visits:
        errors["planned_sessions"] = [
            f"{content['planned_sessions']} planned sessions exceed the "
            f"{referral.authorized_visits} authorized visits"
        ]
    if start < referral.valid_from:
        errors["start_on"] = [f"the referral is valid from {referral.valid_from.isoformat()}"]
    if end > referral.expires_on:
        errors["end_on"] = [f"the referral expires on {referral.expires_on.isoformat()}"]
    if start > end:
        errors.setdefault("end_on", []).append("end_on is before start_on")
    return errors
