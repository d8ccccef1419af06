"""What a therapist records for a session, checked against the plan's precautions.

Measurements come as a score or as the questionnaire's items (scored by the measure's published
rule). Under precautions (screening "modify") a session uses no high-pressure technique and no
pressure above ``moderate``; excluded areas (screening "local") are not treated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.planning.domain.condition_tables import DEFAULT_TABLES, ConditionTables
from shared.clinical.outcome_measures import ScoringError, score, spec_for

PRESSURE_LEVELS = ("light", "moderate", "firm", "deep")
PRESSURE_UNDER_PRECAUTIONS = frozenset({"light", "moderate"})

FieldErrors = dict[str, list[str]]


class SessionRecordError(ValueError):
    def __init__(self, errors: FieldErrors) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def scored_measurements(requested: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each measurement with its score; raise SessionRecordError naming the faulty ones."""
    scored, problems = [], []
    for item in requested:
        try:
            scored.append(_scored(item))
        except ScoringError as error:
            problems.append(str(error))
    measures = [m["measure"] for m in scored]
    if len(set(measures)) < len(measures):
        problems.append("a measure is listed more than once")
    if problems:
        raise SessionRecordError({"measurements": problems})
    return scored


def _scored(item: Mapping[str, Any]) -> dict[str, Any]:
    spec = spec_for(item["measure"])
    items, value = item.get("items"), item.get("score")
    if items is not None and value is None:
        return {"measure": spec.code, "score": score(spec.code, items), "items": list(items)}
    if value is None or items is not None:
        raise ScoringError(f"{spec.code}: give either a score or the items, not both or neither")
    given = float(value)
    if not spec.score_min <= given <= spec.score_max:
        raise ScoringError(
            f"{spec.code}: score {value!r} outside {spec.score_min:g}-{spec.score_max:g}"
        )
    return {"measure": spec.code, "score": round(given, 1), "items": None}


def record_problems(
    content: Mapping[str, Any],
    techniques: Sequence[str],
    areas: Sequence[str],
    pressure: str | None,
    tables: ConditionTables = DEFAULT_TABLES,
) -> FieldErrors:
    """Why this record breaks the plan's precautions (empty when it does not)."""
    errors: FieldErrors = {}
    unknown = sorted(set(techniques) - tables.techniques.keys())
    if unknown:
        errors["techniques"] = [f"unknown technique(s): {', '.join(unknown)}"]
    if content.get("precautions"):
        strong = sorted(
            c for c in set(techniques) - set(unknown) if tables.techniques[c].high_pressure
        )
        if strong:
            errors.setdefault("techniques", []).append(
                f"the plan's precautions exclude high-pressure techniques: {', '.join(strong)}"
            )
        if pressure is not None and pressure not in PRESSURE_UNDER_PRECAUTIONS:
            errors["pressure"] = ["the plan's precautions allow light or moderate pressure only"]
    excluded = {a.casefold() for a in content.get("excluded_areas", ())}
    treated = sorted(a for a in areas if a.casefold() in excluded)
    if treated:
        errors["areas"] = [f"excluded by screening: {', '.join(treated)}"]
    return errors
