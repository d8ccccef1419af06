"""The baseline questionnaires of the patient's form: which ones fit the referral, and their items.

`questionnaires.json` is the table (diagnosis prefixes -> measure) and the wording. An answer's
value is what `shared.clinical.outcome_measures` scores, so the options of a choice item run over the
measure's own item range; `load_questionnaires` checks the table against the measures.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from shared.clinical.outcome_measures import MEASURES, MeasureSpec


@dataclass(frozen=True)
class Item:
    """One answer of a questionnaire: a choice (a select) or a whole number (PSFS, NPRS)."""

    field: str
    label: str
    kind: Literal["choice", "number"]
    what: str  # how an error message names it: "your pain right now", "question 3"
    options: tuple[tuple[int, str], ...] = ()
    hint: str | None = None
    activity_field: str | None = None  # PSFS: the activity the patient names and rates
    activity_label: str | None = None


@dataclass(frozen=True)
class Questionnaire:
    measure: str
    title: str
    intro: str
    items: tuple[Item, ...]

    @property
    def group_id(self) -> str:
        """The id of the questionnaire's fieldset (where an error about all its answers goes)."""
        return f"q-{self.measure.lower()}"

    @property
    def spec(self) -> MeasureSpec:
        return MEASURES[self.measure]


@dataclass(frozen=True)
class MeasureRow:
    measure: str
    region: str
    prefixes: tuple[str, ...]


@dataclass(frozen=True)
class QuestionnaireTable:
    always: tuple[str, ...]
    when_none_fits: tuple[str, ...]
    rows: tuple[MeasureRow, ...]
    questionnaires: Mapping[str, Questionnaire]

    def measures_for(self, diagnosis_codes: Iterable[str]) -> list[str]:
        """NPRS, then each row's measure that a diagnosis matches (table order), else PSFS."""
        codes = [_bare(code) for code in diagnosis_codes]
        fitting = [
            row.measure
            for row in self.rows
            if any(code.startswith(_bare(prefix)) for code in codes for prefix in row.prefixes)
        ]
        chosen = [*self.always, *(fitting or self.when_none_fits)]
        return list(dict.fromkeys(chosen))

    def for_diagnoses(self, diagnosis_codes: Iterable[str]) -> list[Questionnaire]:
        return [self.questionnaires[m] for m in self.measures_for(diagnosis_codes)]


def _bare(code: str) -> str:
    return code.replace(".", "").strip().upper()


def _choice_items(measure: str, raw: Mapping[str, Any], scales: Mapping[str, list[str]]) -> list:
    low, high = MEASURES[measure].item_range
    items = []
    for n, entry in enumerate(raw["items"], 1):
        label, scale = (entry, raw["scale"]) if isinstance(entry, str) else entry
        anchors = scales[scale]
        if len(anchors) != high - low + 1:
            raise ValueError(
                f"{measure}: scale {scale} has {len(anchors)} answers, not {low}-{high}"
            )
        options = tuple(zip(range(low, high + 1), anchors, strict=True))
        items.append(Item(f"{measure.lower()}_{n}", label, "choice", f"question {n}", options))
    return items


def _number_items(measure: str, raw: Mapping[str, Any]) -> list[Item]:
    if "number" in raw:
        number = raw["number"]
        field, what = f"{measure.lower()}_1", number["what"]
        return [Item(field, number["label"], "number", what, hint=number["hint"])]
    rows = raw["activities"]
    return [
        Item(
            f"{measure.lower()}_{n}",
            rows["rating_label"].format(n=n),
            "number",
            rows["what"].format(n=n),
            hint=rows["hint"],
            activity_field=f"{measure.lower()}_{n}_activity",
            activity_label=rows["label"].format(n=n),
        )
        for n in range(1, rows["count"] + 1)
    ]


def _questionnaire(measure: str, raw: Mapping[str, Any], scales: Mapping) -> Questionnaire:
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    items = (
        _number_items(measure, raw) if "items" not in raw else _choice_items(measure, raw, scales)
    )
    low, high = MEASURES[measure].item_count
    if not low <= len(items) <= high:
        raise ValueError(f"{measure}: {len(items)} items, the measure takes {low}-{high}")
    return Questionnaire(measure, raw["title"], raw["intro"], tuple(items))


def load_questionnaires(raw: Mapping[str, Any]) -> QuestionnaireTable:
    """Build and check the table; raises ValueError naming what does not fit the measures."""
    scales = raw["scales"]
    questionnaires = {m: _questionnaire(m, q, scales) for m, q in raw["questionnaires"].items()}
    rows = tuple(
        MeasureRow(r["measure"], r["region"], tuple(r["icd10_prefixes"]))
        for r in raw["by_diagnosis"]
    )
    named = [*raw["always"], *raw["when_none_fits"], *(r.measure for r in rows)]
    missing = sorted(set(named) - set(questionnaires))
    if missing:
        raise ValueError(f"no wording for {', '.join(missing)}")
    return QuestionnaireTable(
        tuple(raw["always"]), tuple(raw["when_none_fits"]), rows, questionnaires
    )


def _default() -> QuestionnaireTable:
    text = (resources.files(__package__) / "questionnaires.json").read_text(encoding="utf-8")
    return load_questionnaires(json.loads(text))


QUESTIONNAIRES = _default()
