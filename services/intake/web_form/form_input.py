"""The posted HTML form -> the input of `IntakeFormSchema`, and where each part came from.

Only the reading happens here: text trimmed, numbers parsed, rows with nothing in them skipped.
The rules (required fields, ranges, lengths, known flags, scoring) stay with the schema and the
use case; `origins` maps each schema path the reader produced to the HTML field it came from, so
their errors can be shown next to the right field. A value that is not even a number, or an
answer outside its measure's item range, is an error of reading (`errors`, by field name).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.intake.web_form.questionnaires import Item, Questionnaire
from services.intake.web_form.screening_questions import QUESTIONS, ScreeningQuestions

SURGERY_ROWS = 3
SYMPTOM_ROWS = 3
CONSENT_VERSION = "v1"


class FormValues(Protocol):
    """What the reader needs of the posted form (werkzeug's MultiDict has it)."""

    def get(self, key: str) -> str | None: ...

    def getlist(self, key: str) -> list[str]: ...


@dataclass
class Reading:
    form: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)  # schema path -> HTML field
    errors: dict[str, str] = field(default_factory=dict)  # HTML field -> message
    order: dict[str, int] = field(default_factory=dict)  # HTML field -> place on the page

    def in_page_order(self, errors: dict[str, str]) -> dict[str, str]:
        last = len(self.order)
        return dict(sorted(errors.items(), key=lambda item: self.order.get(item[0], last)))


class _Reader:
    def __init__(self, values: FormValues, questions: ScreeningQuestions) -> None:
        self.values = values
        self.questions = questions
        self.reading = Reading()

    def saw(self, name: str) -> None:
        self.reading.order.setdefault(name, len(self.reading.order))

    def text(self, name: str) -> str:
        self.saw(name)
        value = self.values.get(name)
        return value.strip() if isinstance(value, str) else ""

    def texts(self, name: str) -> list[str]:
        self.saw(name)
        return [v.strip() for v in self.values.getlist(name) if isinstance(v, str) and v.strip()]

    def checked(self, name: str) -> bool:
        return bool(self.text(name))

    def came_from(self, path: str, name: str) -> None:
        self.reading.origins[path] = name

    def whole(self, name: str, what: str, span: tuple[int, int] | None = None) -> int | None:
        """The field as a whole number (within `span`); else None and an error naming `what`."""
        raw = self.text(name)
        if not raw:
            return None
        try:
            number: int | None = int(raw)
        except ValueError:
            number = None
        if number is None or (span is not None and not span[0] <= number <= span[1]):
            within = f" from {span[0]} to {span[1]}" if span else ""
            self.reading.errors[name] = f"Enter {what} as a whole number{within}."
            return None
        return number

    def decimal(self, name: str, what: str) -> float | None:
        raw = self.text(name).replace(",", ".")  # 37,5 is how many people write 37.5
        if not raw:
            return None
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            self.reading.errors[name] = f"Enter {what} as a number, for example 37.2."
            return None
        return number


def _areas(text: str) -> list[str]:
    return [area.strip() for area in text.split(",") if area.strip()]


def _surgeries(r: _Reader) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n in range(1, SURGERY_ROWS + 1):
        date, area = r.text(f"surgery_{n}_date"), r.text(f"surgery_{n}_area")
        if date or area:
            path = f"history.surgeries[{len(rows)}]"
            r.came_from(path, f"surgery_{n}_date")
            r.came_from(f"{path}.performed_on", f"surgery_{n}_date")
            r.came_from(f"{path}.body_area", f"surgery_{n}_area")
            rows.append({"performed_on": date, "body_area": area})
    return rows


def _events(r: _Reader) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for flag, _ in r.questions.events:
        name = f"event_{flag}_date"
        if date := r.text(name):
            r.came_from(f"history.events[{len(found)}]", name)
            found.append({"condition": flag, "occurred_on": date})
    return found


def _local_findings(r: _Reader) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for flag, _ in r.questions.local_findings:
        name = f"finding_{flag}_area"
        for area in _areas(r.text(name)):
            r.came_from(f"history.local_findings[{len(found)}]", name)
            found.append({"condition": flag, "body_area": area})
    return found


def _pregnancy(r: _Reader) -> dict[str, Any] | None:
    r.came_from("history.pregnancy", "pregnancy")
    trimester = r.whole("pregnancy", "how many months pregnant you are", (1, 3))
    high_risk = r.checked("pregnancy_high_risk")
    if trimester is None:
        if high_risk and "pregnancy" not in r.reading.errors:
            r.reading.errors["pregnancy"] = "Choose how many months pregnant you are."
        return None
    return {"trimester": trimester, "high_risk": high_risk}


def _conditions(r: _Reader) -> list[str]:
    r.came_from("history.conditions", "conditions")
    return r.texts("conditions")


def _notes(r: _Reader, notes: Sequence[str]) -> str:
    r.came_from("history.notes", "history_notes")
    return "\n\n".join(part for part in (r.text("history_notes"), *notes) if part)


def _medications(r: _Reader) -> list[str]:
    r.came_from("medications", "medications")
    return [line.strip() for line in r.text("medications").splitlines() if line.strip()]


def _symptoms(r: _Reader) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n in range(1, SYMPTOM_ROWS + 1):
        names = {k: f"symptom_{n}_{k}" for k in ("description", "body_area", "severity")}
        if not any(r.text(name) for name in names.values()):
            continue
        path = f"symptoms[{len(rows)}]"
        r.came_from(path, names["description"])
        for key, name in names.items():
            r.came_from(f"{path}.{key}", name)
        rows.append(
            {
                "description": r.text(names["description"]),
                "body_area": r.text(names["body_area"]) or None,
                "severity": r.whole(names["severity"], f"how bad symptom {n} is", (0, 10)),
            }
        )
    return rows


def _vitals(r: _Reader) -> dict[str, Any]:
    r.came_from("vitals.temperature_c", "temperature_c")
    r.came_from("vitals.blood_pressure", "bp_systolic")
    r.came_from("vitals.blood_pressure.systolic", "bp_systolic")
    r.came_from("vitals.blood_pressure.diastolic", "bp_diastolic")
    temperature = r.decimal("temperature_c", "your temperature")
    systolic = r.whole("bp_systolic", "the top number of your blood pressure")
    diastolic = r.whole("bp_diastolic", "the bottom number of your blood pressure")
    pressure = None
    if systolic is not None or diastolic is not None:
        pressure = {"systolic": systolic, "diastolic": diastolic}
    return {"temperature_c": temperature, "blood_pressure": pressure}


def _body_areas(r: _Reader) -> list[str]:
    ticked = r.texts("body_areas")
    typed = _areas(r.text("body_areas_other"))
    areas = list(dict.fromkeys([*ticked, *typed]))
    r.came_from("body_areas", "body_areas")
    for i, area in enumerate(areas):
        r.came_from(f"body_areas[{i}]", "body_areas" if area in ticked else "body_areas_other")
    return areas


def _answer(r: _Reader, item: Item, q: Questionnaire) -> float | None:
    value = r.whole(item.field, item.what, q.spec.item_range)
    if item.kind == "choice" and item.field in r.reading.errors:
        r.reading.errors[item.field] = f"Choose one of the answers to {item.what}."
    return None if value is None else float(value)


def _activities(r: _Reader, q: Questionnaire, notes: list[str]) -> list[float | None]:
    """PSFS: the rated rows (each needs a name and a rating); the names go to the notes."""
    items: list[float | None] = []
    named: list[str] = []
    for item in q.items:
        activity, rating = r.text(item.activity_field or ""), _answer(r, item, q)
        if rating is None and item.field not in r.reading.errors and activity:
            low, high = q.spec.item_range
            r.reading.errors[item.field] = (
                f"Enter {item.what} as a whole number from {low} to {high}."
            )
        elif rating is not None and not activity:
            r.reading.errors[item.activity_field or item.field] = (
                f"Name {(item.activity_label or 'the activity').lower()}, or clear its rating."
            )
        if activity or rating is not None:
            items.append(rating)
            named.append(f"{len(named) + 1}. {activity}")
    if named:
        notes.append(f"{q.title} ({q.measure}): " + "; ".join(named))
    return items


def _baseline(r: _Reader, questionnaires: Sequence[Questionnaire], notes: list[str]) -> list:
    baseline = []
    for i, q in enumerate(questionnaires):
        r.saw(q.group_id)
        r.came_from(f"baseline[{i}]", q.group_id)
        single = len(q.items) == 1
        r.came_from(f"baseline[{i}].items", q.items[0].field if single else q.group_id)
        rated = q.items[0].activity_field is not None
        items = _activities(r, q, notes) if rated else [_answer(r, item, q) for item in q.items]
        baseline.append({"measure": q.measure, "items": items})
    return baseline


def _consent(r: _Reader) -> dict[str, Any]:
    """Contact preferences, agreement and signature, read in the order the page shows them."""
    fields = {
        "email": "contact_email",
        "sms": "contact_sms",
        "agreed": "consent_agreed",
        "signed_by": "signed_by",
    }
    r.came_from("consent", "signed_by")
    for key, name in fields.items():
        r.came_from(f"consent.{key}", name)
    return {
        "email": r.checked("contact_email"),
        "sms": r.checked("contact_sms"),
        "agreed": r.checked("consent_agreed"),
        "signed_by": r.text("signed_by"),
        "text_version": CONSENT_VERSION,
    }


def read_form(
    values: FormValues,
    questionnaires: Sequence[Questionnaire],
    questions: ScreeningQuestions = QUESTIONS,
) -> Reading:
    """Read the posted form for these questionnaires (the ones the page showed), in page order."""
    r = _Reader(values, questions)
    notes: list[str] = []
    form: dict[str, Any] = {"symptoms": _symptoms(r), "body_areas": _body_areas(r)}
    form["baseline"] = _baseline(r, questionnaires, notes)
    conditions = _conditions(r)
    form["medications"] = _medications(r)
    form["vitals"] = _vitals(r)
    form["history"] = {
        "conditions": conditions,
        "pregnancy": _pregnancy(r),
        "surgeries": _surgeries(r),
        "events": _events(r),
        "local_findings": _local_findings(r),
        "notes": _notes(r, notes),
    }
    form["consent"] = _consent(r)
    r.reading.form = form
    return r.reading
