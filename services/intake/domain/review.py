"""The review state: what a referral the clinic can act on still lacks, and how staff settle it.

A referral that breaks no rule (`referral_record.problems`) but lacks something the clinic settles
with one call to the prescriber is held `needs_review` with its `pending` items
`[{item, message}]`, never rejected:

- `diagnosis_code`: no billable ICD-10-CM code (SNOMED-only, text-only, a category such as
  T20.21, an Observation as the only reason);
- `authorized_visits`: no total number of visits (only a rate, or nothing);
- `location`: a location the clinic does not have;
- `patient_identity`: an identifier that matches a stored patient whose birth date or name
  disagrees (`patient_matching`): the referral is attached to nobody until staff decide.

Staff supply what is missing (`apply_review`); once nothing is pending the referral is accepted.
A referral without an end date is not held: the clinic's default validity applies
(`with_clinic_defaults`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from .referral import (
    AUTHORIZED_VISITS_RANGE,
    ICD10CM_SYSTEM,
    Diagnosis,
    Notice,
    OtherReason,
    Referral,
    validate_icd10,
)
from .referral_record import problems

DIAGNOSIS_CODE = "diagnosis_code"
AUTHORIZED_VISITS = "authorized_visits"
LOCATION = "location"
PATIENT_IDENTITY = "patient_identity"
ITEMS = (DIAGNOSIS_CODE, AUTHORIZED_VISITS, LOCATION, PATIENT_IDENTITY)

Pending = dict[str, Any]
"""`{item, message}`; `patient_identity` also names the stored patients (`patient_ids`)."""


def pending(item: str, message: str, **more: Any) -> Pending:
    return {"item": item, "message": message, **more}


def with_billable_diagnoses(referral: Referral) -> Referral:
    """The referral with its diagnoses the billable ICD-10-CM codes (dotted, once per code), and
    every other code it names kept among its other reasons (a category, an unknown code)."""
    billable: dict[str, Diagnosis] = {}
    others = list(referral.other_reasons)
    for diagnosis in referral.diagnoses:
        code = validate_icd10(diagnosis.code) if diagnosis.system == ICD10CM_SYSTEM else None
        if code is None:
            others.append(
                OtherReason("diagnosis", diagnosis.display, diagnosis.system, diagnosis.code)
            )
        elif code not in billable:
            billable[code] = Diagnosis(code, diagnosis.display, ICD10CM_SYSTEM)
    return replace(referral, diagnoses=list(billable.values()), other_reasons=others)


def with_clinic_defaults(referral: Referral, validity_days: int, today: date) -> Referral:
    """Start and end dates the referral did not send: from when it was written (else today), for
    the clinic's default validity; each default is noticed."""
    notices = list(referral.notices)
    start = referral.valid_from
    if start is None:
        start = referral.authored_on or today
        notices.append(Notice("valid_from", f"none sent: from {start}"))
    end = referral.expires_on
    if end is None:
        end = start + timedelta(days=validity_days - 1)
        message = f"none sent: the clinic's default validity of {validity_days} days, to {end}"
        notices.append(Notice("expires_on", message))
    return replace(referral, valid_from=start, expires_on=end, notices=notices)


def _no_code(referral: Referral) -> str:
    reasons = [r.text or r.code for r in referral.other_reasons if r.text or r.code]
    sent = f" (sent: {'; '.join(str(r) for r in reasons)})" if reasons else ""
    return f"no billable ICD-10-CM code{sent}"


def _no_total(referral: Referral) -> str:
    rate = referral.visits_per_period
    if rate is None:
        return "no total number of visits"
    return f"no total number of visits, only a rate ({rate.visits} per {rate.period} {rate.unit})"


def pending_items(referral: Referral, location_problem: str | None) -> list[Pending]:
    """What the clinic must settle before the referral is accepted (empty: nothing)."""
    items = []
    if not referral.diagnoses:
        items.append(pending(DIAGNOSIS_CODE, _no_code(referral)))
    if referral.authorized_visits is None:
        items.append(pending(AUTHORIZED_VISITS, _no_total(referral)))
    if location_problem:
        items.append(pending(LOCATION, location_problem))
    return items


@dataclass(frozen=True)
class Assessment:
    """A referral as the clinic takes it: with its defaults and billable diagnoses, what rejects
    it (by field; empty: nothing) and what it waits for (empty: it can be accepted)."""

    referral: Referral
    problems: dict[str, list[str]]
    pending: list[Pending]


def assess(
    referral: Referral, *, today: date, validity_days: int, location_problem: str | None = None
) -> Assessment:
    """The one decision on a referral's content: rejected, held for review, or acceptable."""
    taken = with_billable_diagnoses(with_clinic_defaults(referral, validity_days, today))
    return Assessment(taken, problems(taken, today), pending_items(taken, location_problem))


def identity_item(patient_ids: Sequence[str]) -> Pending:
    """A possible collision: the stored patients the referral's identifier or name points to."""
    return pending(
        PATIENT_IDENTITY,
        "the patient's identifier matches a record whose birth date or name differs: "
        "the clinic confirms who the patient is",
        patient_ids=list(patient_ids),
    )


FIELDS = {
    DIAGNOSIS_CODE: "diagnoses",
    AUTHORIZED_VISITS: "authorized_visits",
    LOCATION: "location_id",
    PATIENT_IDENTITY: "patient",
}
"""Each item, and the field of the referral (and of staff's answer) that settles it."""


def field_of(item: str) -> str:
    return FIELDS[item]


def for_partner(items: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The pending items as a partner hears them: the item and why, never other patients' ids."""
    return [{"item": i["item"], "message": i["message"]} for i in items]


@dataclass(frozen=True)
class Review:
    """Staff's answer to a held referral: the terms and location with what they supplied, what
    is still pending, and the patient decision (None: match automatically)."""

    terms: dict[str, Any]
    location_id: str | None
    pending: list[Pending]
    patient: Mapping[str, Any] | None


def apply_review(
    terms: Mapping[str, Any],
    location_id: str | None,
    items: Sequence[Mapping[str, Any]],
    supplied: Mapping[str, Any],
    clinic_locations: Collection[str],
) -> tuple[Review | None, dict[str, list[str]]]:
    """Staff's answers applied to a held referral, or the problems with them, by field.

    Only a pending item may be answered; codes must be billable ICD-10-CM, visits in range, the
    location one of the clinic's.
    """
    waiting = {i["item"] for i in items}
    answers = FIELDS
    errors: dict[str, list[str]] = {}
    for item, name in answers.items():
        if name in supplied and item not in waiting:
            errors[name] = [f"nothing is pending for {item}"]
    new_terms, new_location = dict(terms), location_id
    for i, diagnosis in enumerate(supplied.get("diagnoses") or []):
        if validate_icd10(diagnosis["code"]) is None:
            errors[f"diagnoses.{i}.code"] = [f"{diagnosis['code']!r} is not billable ICD-10-CM"]
    if "diagnoses" in supplied and not errors:
        new_terms["diagnoses"] = [
            {
                "code": validate_icd10(d["code"]),
                "display": d.get("display"),
                "system": ICD10CM_SYSTEM,
            }
            for d in supplied["diagnoses"]
        ]
    low, high = AUTHORIZED_VISITS_RANGE
    visits = supplied.get("authorized_visits")
    if visits is not None and not low <= visits <= high:
        errors["authorized_visits"] = [f"must be {low}-{high}"]
    elif visits is not None:
        new_terms["authorized_visits"] = visits
    if "location_id" in supplied and supplied["location_id"] not in clinic_locations:
        errors["location_id"] = [f"{supplied['location_id']!r} is not a location of this clinic"]
    elif "location_id" in supplied:
        new_location = supplied["location_id"]
    if errors:
        return None, errors
    answered = {item for item, name in answers.items() if name in supplied}
    remaining = [dict(i) for i in items if i["item"] not in answered]
    return Review(new_terms, new_location, remaining, supplied.get("patient")), {}
