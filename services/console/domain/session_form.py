"""Page 9's rules: the session record form (SOAP notes, techniques, areas, pressure, response)
and its outcome measurements, each entered as the measure's own questionnaire (its items and
their range, `shared.clinical.outcome_measures`) and scored by planning with the measure's
published rule; and the screening's precautions as the session shows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.clinical.outcome_measures import MEASURES, MeasureSpec

SOAP = (
    ("subjective", "Subjective: what the patient reports"),
    ("objective", "Objective: what you found"),
    ("assessment", "Assessment"),
    ("plan", "Plan for the next sessions"),
)
PRESSURE_LEVELS = ("light", "moderate", "firm", "deep")
DEFAULT_MEASURE = "NPRS"
RECORD_FIELDS = (
    *(f"soap-{key}" for key, _ in SOAP),
    "techniques",
    "areas",
    "other_areas",
    "pressure",
    "response",
    "measurements",
)


@dataclass(frozen=True)
class MeasureForm:
    """A measure as the form asks it: one field per item, each with its range."""

    code: str
    name: str
    items: int
    lowest: int
    highest: int
    required_items: int
    better: str
    mcid: float

    @property
    def fields(self) -> list[str]:
        return [f"m-{self.code}-{n}" for n in range(self.items)]

    @property
    def hint(self) -> str:
        answer = f"each answer {self.lowest} to {self.highest}"
        count = (
            f"all {self.items} items"
            if self.required_items == self.items
            else f"at least {self.required_items} of {self.items} items"
        )
        return f"{count}, {answer}; {self.better} is better; a change of {self.mcid:g} matters"

    @classmethod
    def of(cls, spec: MeasureSpec) -> MeasureForm:
        least, most = spec.item_count
        return cls(
            code=spec.code,
            name=spec.name,
            items=most,
            lowest=spec.item_range[0],
            highest=spec.item_range[1],
            required_items=least - spec.max_missing if least == most else least,
            better=spec.better,
            mcid=spec.mcid_points,
        )


def measures_for(plan: Mapping[str, Any]) -> list[MeasureForm]:
    """The measures the plan follows (its goals', then its baseline's); NPRS when it has none."""
    content = plan.get("content") or {}
    codes = [g["measure"] for g in content.get("goals") or [] if g.get("measure") in MEASURES]
    codes += [c for c in (plan.get("baseline") or {}) if c in MEASURES]
    unique = list(dict.fromkeys(codes)) or [DEFAULT_MEASURE]
    return [MeasureForm.of(MEASURES[c]) for c in unique]


def measurements_from(
    form: Mapping[str, str], measures: Sequence[MeasureForm]
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """The measurements typed (a measure left blank is not taken), or the errors of items that
    are not whole numbers in the measure's range; the score itself is the API's, by the
    measure's rule (missing items, percent, mean...)."""
    taken: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    for measure in measures:
        typed = [form.get(name, "").strip() for name in measure.fields]
        if not any(typed):
            continue
        items: list[int | None] = []
        for name, text in zip(measure.fields, typed, strict=True):
            if text == "":
                items.append(None)
                continue
            value = int(text) if text.lstrip("-").isdigit() else None
            if value is None or not measure.lowest <= value <= measure.highest:
                errors[name] = [f"a whole number from {measure.lowest} to {measure.highest}"]
            items.append(value)
        least, most = MEASURES[measure.code].item_count
        while least < most and items and items[-1] is None:  # PSFS: 3 to 5 activities
            items.pop()
        taken.append({"measure": measure.code, "items": items})
    return taken, errors


def record_body(
    form: Mapping[str, Any],
    chosen_techniques: Sequence[str],
    chosen_areas: Sequence[str],
    measures: Sequence[MeasureForm],
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The body of `POST .../complete`, or the form's own errors (each next to its field)."""
    errors: dict[str, list[str]] = {}
    soap = {key: str(form.get(f"soap-{key}", "")).strip() for key, _ in SOAP}
    for key, text in soap.items():
        if not text:
            errors[f"soap-{key}"] = ["write this part of the note"]
    if not chosen_techniques:
        errors["techniques"] = ["tick at least one technique used"]
    others = [a.strip() for a in str(form.get("other_areas", "")).split(",") if a.strip()]
    areas = list(dict.fromkeys([*chosen_areas, *others]))
    pressure = str(form.get("pressure", "")) or None
    if pressure is not None and pressure not in PRESSURE_LEVELS:
        errors["pressure"] = ["choose a pressure from the list"]
    measurements, measure_errors = measurements_from(form, measures)
    errors.update(measure_errors)
    if errors:
        return {}, errors
    body = {
        "soap": soap,
        "techniques": list(dict.fromkeys(chosen_techniques)),
        "areas": areas,
        "pressure": pressure,
        "response": str(form.get("response", "")).strip(),
        "measurements": measurements,
    }
    return body, {}


def record_errors_on_form(
    api_fields: Mapping[str, list[str]], measures: Iterable[MeasureForm]
) -> dict[str, list[str]]:
    """The API's field errors under the form's names: `soap.subjective` -> `soap-subjective`, a
    measurement's problem (`NDI: ...`) next to that measure's questions."""
    codes = [m.code for m in measures]
    placed: dict[str, list[str]] = {}
    for name, problems in api_fields.items():
        if name.startswith("measurements"):
            for problem in problems:
                code = next((c for c in codes if problem.startswith(f"{c}:")), None)
                placed.setdefault(f"m-{code}" if code else "measurements", []).append(problem)
            continue
        placed.setdefault(
            name.replace(".", "-", 1) if name.startswith("soap.") else name, []
        ).extend(problems)
    return placed
