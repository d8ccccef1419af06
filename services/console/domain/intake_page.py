"""Page 6: recording an intake on the patient's own form, and reviewing what was submitted.

The form comes from intake as data (`GET /intakes/form`); this module knows only how to hand
back what was typed (every value of each field, for checkboxes sharing a name), which names
the form has (to place the API's errors next to them), what a submitted intake says in words,
and the body of a clearance. Pure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from services.console.domain.precautions import Precautions, precautions_of

ANSWERS_PREFIX = "answers."
NOT_ANSWERS = frozenset({"csrf_token"})


class FormValues(Protocol):
    def __iter__(self) -> Iterator[str]: ...

    def getlist(self, key: str) -> list[str]: ...


def answers_of(form: FormValues) -> dict[str, list[str]]:
    """What was typed, field name -> its values (the API reads it as the web form's post)."""
    return {name: form.getlist(name) for name in form if name not in NOT_ANSWERS}


def form_names(definition: Mapping[str, Any]) -> set[str]:
    """Every field name and group id of the form: where an error can be shown."""
    names: set[str] = set()
    for section in definition.get("sections") or []:
        for group in section.get("groups") or []:
            names.add(group["id"])
            names.update(f["name"] for row in group.get("rows") or [] for f in row)
    return names


def on_form(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The API's `answers.<field>` errors by field name (`answers.form`: the whole form)."""
    placed: dict[str, list[str]] = {}
    for path, problems in errors.items():
        name = path.removeprefix(ANSWERS_PREFIX)
        placed.setdefault("_form" if name == "form" else name, []).extend(problems)
    return placed


def humane(flag: str) -> str:
    return flag.replace("_", " ")


@dataclass(frozen=True)
class Answer:
    label: str
    value: str


@dataclass(frozen=True)
class IntakeReview:
    intake_id: str
    referral_id: str
    patient_id: str
    completed_by: str
    precautions: Precautions | None
    answers: tuple[Answer, ...]
    awaiting: tuple[tuple[str, str], ...]
    """(rule id, label) of the rules awaiting a physician's clearance."""
    version: int


def _symptom(s: Mapping[str, Any]) -> str:
    where = f" ({s['body_area']})" if s.get("body_area") else ""
    severity = f", {s['severity']}/10" if s.get("severity") is not None else ""
    return f"{s.get('description')}{where}{severity}"


def review(intake: Mapping[str, Any]) -> IntakeReview:
    """What the intake recorded, in words."""
    history = intake.get("history") or {}
    vitals = intake.get("vitals") or {}
    pressure = vitals.get("blood_pressure") or {}
    pregnancy = history.get("pregnancy") or {}
    consent = intake.get("consent") or {}
    rows = [
        ("Symptoms", "; ".join(_symptom(s) for s in intake.get("symptoms") or [])),
        ("Body areas", ", ".join(intake.get("body_areas") or [])),
        (
            "Baseline measures",
            "; ".join(f"{b.get('measure')} {b.get('score')}" for b in intake.get("baseline") or []),
        ),
        ("Conditions", ", ".join(humane(c) for c in history.get("conditions") or [])),
        ("Medicines", "; ".join(intake.get("medications") or [])),
        ("Temperature", f"{vitals['temperature_c']} °C" if vitals.get("temperature_c") else ""),
        (
            "Blood pressure",
            f"{pressure.get('systolic')}/{pressure.get('diastolic')}" if pressure else "",
        ),
        (
            "Pregnancy",
            f"trimester {pregnancy.get('trimester')}"
            + (", high-risk" if pregnancy.get("high_risk") else "")
            if pregnancy
            else "",
        ),
        (
            "Operations",
            "; ".join(
                f"{s.get('performed_on')} ({s.get('body_area')})"
                for s in history.get("surgeries") or []
            ),
        ),
        (
            "Stroke",
            "; ".join(
                f"{humane(e.get('condition', ''))} on {e.get('occurred_on')}"
                for e in history.get("events") or []
            ),
        ),
        (
            "Local problems",
            "; ".join(
                f"{humane(f.get('condition', ''))} ({f.get('body_area')})"
                for f in history.get("local_findings") or []
            ),
        ),
        ("Notes", str(history.get("notes") or "")),
        (
            "Contact",
            ", ".join(
                word
                for word, ok in (
                    ("email OK", consent.get("email")),
                    ("texts OK", consent.get("sms")),
                )
                if ok
            )
            or "no messages",
        ),
        ("Signed by", str(consent.get("signed_by") or "")),
    ]
    screening = intake.get("screening") or {}
    labels = {r.get("rule_id"): r.get("label") for r in screening.get("reasons") or []}
    awaiting = tuple(
        (rule, str(labels.get(rule) or rule))
        for rule in screening.get("requires_clearance_for") or []
    )
    by = "the patient, on the web form" if intake.get("completed_by") == "patient" else "staff"
    return IntakeReview(
        intake_id=intake["intake_id"],
        referral_id=str(intake.get("referral_id") or ""),
        patient_id=str(intake.get("patient_id") or ""),
        completed_by=by,
        precautions=precautions_of(screening),
        answers=tuple(Answer(label, value) for label, value in rows if value),
        awaiting=awaiting,
        version=int(intake.get("version") or 0),
    )


CLEARANCE_FIELDS = ("rule_ids", "note", "cleared_by")


def clearance_body(form: FormValues) -> dict[str, Any]:
    """The clearance a clinician recorded: the rules cleared, the physician, the note."""
    first = lambda name: (form.getlist(name) or [""])[0].strip()  # noqa: E731
    return {
        "rule_ids": [r for r in form.getlist("rule_ids") if r],
        "note": first("note"),
        "cleared_by": first("cleared_by"),
    }
