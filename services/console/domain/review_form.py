"""The review of a held referral as a form: which fields the page asks for (one per pending
item), the body intake's `POST /referrals/<id>/review` takes from what was typed, and where each
of intake's field errors belongs on the form. Intake checks every answer; this only translates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FIELD_OF_ITEM = {
    "diagnosis_code": "diagnoses",
    "authorized_visits": "authorized_visits",
    "location": "location_id",
    "patient_identity": "patient",
}
DIAGNOSIS_ROWS = 3
NEW_PATIENT = "new"
CHOOSE_PATIENT = "Choose the record this patient is, or a new patient."


def asked(pending: Iterable[Mapping[str, Any]]) -> set[str]:
    """The review's fields for these pending items."""
    return {FIELD_OF_ITEM[p["item"]] for p in pending if p.get("item") in FIELD_OF_ITEM}


def review_body(fields: set[str], form: Mapping[str, str], version: int) -> dict[str, Any]:
    """The review's body: each asked field as typed (numbers as numbers when they are)."""
    body: dict[str, Any] = {"version": version}
    if "diagnoses" in fields:
        rows = []
        for n in range(DIAGNOSIS_ROWS):
            code = form.get(f"diagnoses-{n}-code", "").strip()
            display = form.get(f"diagnoses-{n}-display", "").strip()
            if code or display:
                rows.append({"code": code, "display": display or None})
        body["diagnoses"] = rows
    if "authorized_visits" in fields:
        typed = form.get("authorized_visits", "").strip()
        body["authorized_visits"] = int(typed) if typed.isdigit() else typed
    if "location_id" in fields:
        body["location_id"] = form.get("location_id", "")
    chosen = form.get("patient", "")
    if "patient" in fields and chosen:  # unchosen: it stays to settle (`unanswered`)
        body["patient"] = {"register_new": True} if chosen == NEW_PATIENT else {"link_to": chosen}
    return body


def unanswered(fields: set[str], form: Mapping[str, str]) -> dict[str, list[str]]:
    """What the form asked and the person left open, said next to its field."""
    if "patient" in fields and not form.get("patient"):
        return {"patient": [CHOOSE_PATIENT]}
    return {}


def form_field(path: str) -> str:
    """Where an error of intake's (`diagnoses.0.code`) is shown on the form (`diagnoses-0-code`);
    `_form` for what belongs to no field."""
    head = path.split(".")[0]
    if head == "diagnoses":
        parts = path.split(".")
        return "-".join(parts[:3]) if len(parts) >= 3 else "diagnoses-0-code"
    if head in ("authorized_visits", "location_id", "patient", "reason"):
        return head
    return "_form"


def on_form(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Intake's field errors, keyed by the form's fields."""
    placed: dict[str, list[str]] = {}
    for path, problems in errors.items():
        placed.setdefault(form_field(path), []).extend(problems)
    return placed
