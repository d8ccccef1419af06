"""Third-party FHIR referrals from `../shared/fhir-examples/` (next to the repository, never copied
into it), with the validity window moved to start today when today lies outside it (that folder's
README asks tests to do so)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parents[1].parent / "shared" / "fhir-examples"


def third_party(name: str, today: date | None = None) -> dict[str, Any]:
    """The example bundle `name`, valid on `today` (default: the UTC date)."""
    path = FOLDER / name
    if not path.is_file():
        raise AssertionError(
            f"{path.name} is not in ../shared/fhir-examples/ (next to the repository): "
            "the third-party FHIR examples are needed for this test"
        )
    bundle = json.loads(path.read_text(encoding="utf-8"))
    _valid_on(bundle, today or datetime.now(UTC).date())
    return bundle


def _valid_on(bundle: dict[str, Any], today: date) -> None:
    """Move the ServiceRequest's validity (an occurrencePeriod, or its timing's boundsPeriod)
    forward to start today when today is past its end or before its start."""
    for entry in bundle.get("entry", []):
        request = entry.get("resource") or {}
        if request.get("resourceType") != "ServiceRequest":
            continue
        repeat = (request.get("occurrenceTiming") or {}).get("repeat") or {}
        period = request.get("occurrencePeriod") or repeat.get("boundsPeriod")
        if not period or "start" not in period:
            continue
        start = date.fromisoformat(period["start"][:10])
        end = date.fromisoformat(period["end"][:10]) if "end" in period else None
        if start > today or (end is not None and end < today):
            shift = today - start
            period["start"] = str(start + shift)
            if end is not None:
                period["end"] = str(end + shift)


def patient_of(bundle: dict[str, Any]) -> dict[str, Any]:
    return next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )


@dataclass(frozen=True)
class Expected:
    """The outcome a shared example should get, whose referral it is, and what staff answer.

    `pending`: the items a held one waits for on its own (a patient collision may add
    `patient_identity`, depending on what came before); `field`: a field the reasons of a
    rejected one name; `answer`: what the clinic settles with the prescriber for its items.
    """

    outcome: str  # accepted | needs_review | rejected
    person: str | None = None
    pending: tuple[str, ...] = ()
    field: str | None = None
    answer: dict[str, Any] = dataclass_field(default_factory=dict)


# Five people: Eve Everywoman (BSeR), Betsy Smith-Johnson (the three PACIO files), Peter Chalmers
# (the R4 physiotherapy, bench press and physical therapy files that are not rejected), Roel Bor
# (R4 knees) and Amy Baxter (the three US Core files). Eve and Betsy carry the same MRN
# (http://hospital.smarthealthit.org|1032702): two people, whichever comes second waits for staff.
# The rejected files create nobody.
EXAMPLES: dict[str, Expected] = {
    "accepted-bser-arthritis-referral-message.json": Expected("accepted", "eve"),
    "accepted-pacio-toc-pt-referral-practitionerrole.json": Expected("accepted", "betsy"),
    "accepted-pacio-toc-pt-referral-requester-fictional-phone.json": Expected("accepted", "betsy"),
    "accepted-r4-benchpress-order-visits-in-timing-count.json": Expected("accepted", "peter"),
    "accepted-r4-physiotherapy-contained-condition.json": Expected("accepted", "peter"),
    "accepted-r4-physiotherapy-transaction-urnuuid.json": Expected("accepted", "peter"),
    "accepted-r4-pt-knees-reasoncode-conditional-create.json": Expected("accepted", "roel"),
    "accepted-uscore-rehab-reasoncode-plus-observation-batch.json": Expected("accepted", "amy"),
    "review-hl7-physicaltherapy-rate-without-total.json": Expected(
        "needs_review", "peter", ("authorized_visits",), answer={"authorized_visits": 20}
    ),
    "review-pacio-toc-pt-referral-snomed-only-condition.json": Expected(
        "needs_review", "betsy", ("diagnosis_code",), answer={"diagnoses": [{"code": "I69.351"}]}
    ),
    "review-uscore-condition-nonbillable-icd10-T20.21.json": Expected(
        "needs_review", "amy", ("diagnosis_code",), answer={"diagnoses": [{"code": "T20.211A"}]}
    ),
    "review-uscore-rehab-reason-observation-only.json": Expected(
        "needs_review", "amy", ("diagnosis_code",), answer={"diagnoses": [{"code": "F10.10"}]}
    ),
    "rejected-nhs-bars-111-to-ed-message.json": Expected(
        "rejected", field="MessageHeader.destination[0].endpoint"
    ),
    "rejected-r4-benchpress-intent-plan.json": Expected("rejected", field="ServiceRequest.intent"),
    "rejected-r4-physiotherapy-as-published.json": Expected(
        "rejected", field="ServiceRequest.status"
    ),
    "rejected-r4-spec-bundle-transaction-no-servicerequest.json": Expected(
        "rejected", field="Bundle.entry"
    ),
}
PEOPLE = {"eve", "betsy", "peter", "roel", "amy"}
SHARING_AN_MRN = ("eve", "betsy")


def as_own_referral(name: str, today: date | None = None) -> dict[str, Any]:
    """The example as a referral of its own: its ServiceRequest's identifier made the file's name
    (several files reuse one source's identifier, which would make them amendments of each other)."""
    bundle = third_party(name, today)
    for entry in bundle.get("entry", []):
        request = entry.get("resource") or {}
        if request.get("resourceType") == "ServiceRequest" and request.get("identifier"):
            request["identifier"][0]["value"] = name.removesuffix(".json")
    return bundle
