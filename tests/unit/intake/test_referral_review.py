"""What EHRs send is read as sent, and what the clinic can settle holds a referral for its review
(domain/review.py) instead of rejecting it; the third-party examples of ../shared/fhir-examples/
each get their outcome from the one decision, `review.assess`."""

from __future__ import annotations

import copy
import os
from datetime import date, timedelta

import pytest

from services.intake.domain import review
from services.intake.domain.referral import npi_check_digit_ok
from services.intake.partner_forms.fhir import ReferralFormError, referral_from_fhir_bundle
from testkit.fhir_examples import EXAMPLES, FOLDER, third_party
from testkit.referrals import example, resource

TODAY = date(2026, 12, 2)


def the_bundle() -> dict:
    bundle = copy.deepcopy(example("referral_bundle.json"))
    resource(bundle, "ServiceRequest")["occurrencePeriod"] = {
        "start": "2026-12-01",
        "end": "2027-02-28",
    }
    return bundle


def assessed(bundle: dict, days: int = 90) -> review.Assessment:
    read = referral_from_fhir_bundle(bundle, today=TODAY)
    return review.assess(read, today=TODAY, validity_days=days)


def items(assessment: review.Assessment) -> list[str]:
    return [p["item"] for p in assessment.pending]


def test_a_contained_condition_named_by_hash_id_is_the_diagnosis():
    bundle = the_bundle()
    request = resource(bundle, "ServiceRequest")
    condition = resource(bundle, "Condition")
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Condition"]
    request["contained"] = [{**condition, "id": "lbp"}]
    request["reasonReference"] = [{"reference": "#lbp"}]

    taken = assessed(bundle)

    assert [d.code for d in taken.referral.diagnoses] == ["M54.50"]
    assert (taken.problems, taken.pending) == ({}, [])


def test_the_same_diagnosis_in_a_condition_and_in_reason_code_is_kept_once():
    bundle = the_bundle()
    resource(bundle, "ServiceRequest")["reasonCode"] = [
        {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.50"}]}
    ]
    assert [d.code for d in assessed(bundle).referral.diagnoses] == ["M54.50", "M54.2"]


def test_an_observation_beside_a_code_is_kept_as_supporting_information():
    bundle = the_bundle()
    bundle["entry"].append(
        {
            "fullUrl": "urn:uuid:obs-1",
            "resource": {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "Pain interference"},
            },
        }
    )
    resource(bundle, "ServiceRequest")["reasonReference"].append({"reference": "urn:uuid:obs-1"})

    taken = assessed(bundle)

    assert taken.pending == [] and [d.code for d in taken.referral.diagnoses] == ["M54.50", "M54.2"]
    assert [(o.resource, o.text) for o in taken.referral.other_reasons] == [
        ("Observation", "Pain interference")
    ]


def snomed_only(bundle: dict) -> None:
    for n in (0, 1):
        coding = resource(bundle, "Condition", n)["code"]["coding"][0]
        coding.update(system="http://snomed.info/sct", code="279039007")


def category_only(bundle: dict) -> None:
    resource(bundle, "ServiceRequest")["reasonReference"] = [
        resource(bundle, "ServiceRequest")["reasonReference"][0]
    ]
    resource(bundle, "Condition")["code"]["coding"][0]["code"] = "M54.5"


def text_only(bundle: dict) -> None:
    request = resource(bundle, "ServiceRequest")
    del request["reasonReference"]
    request["reasonCode"] = [{"text": "sore back"}]


def no_reason(bundle: dict) -> None:
    del resource(bundle, "ServiceRequest")["reasonReference"]


def rate_only(bundle: dict) -> None:
    request = resource(bundle, "ServiceRequest")
    del request["quantityQuantity"]
    request["quantityRatio"] = {
        "numerator": {"value": 2},
        "denominator": {"value": 1, "code": "wk"},
    }


def no_visits(bundle: dict) -> None:
    del resource(bundle, "ServiceRequest")["quantityQuantity"]


@pytest.mark.parametrize(
    ("mutate", "item", "message"),
    [
        (snomed_only, "diagnosis_code", "no billable ICD-10-CM code"),
        (category_only, "diagnosis_code", "no billable ICD-10-CM code"),
        (text_only, "diagnosis_code", "(sent: sore back)"),
        (no_reason, "diagnosis_code", "no billable ICD-10-CM code"),
        (rate_only, "authorized_visits", "only a rate (2 per 1 wk)"),
        (no_visits, "authorized_visits", "no total number of visits"),
    ],
    ids=lambda v: v.__name__ if callable(v) else None,
)
def test_what_the_clinic_settles_with_a_call_holds_the_referral_for_review(mutate, item, message):
    bundle = the_bundle()
    mutate(bundle)
    taken = assessed(bundle)
    assert taken.problems == {}
    [pending] = taken.pending
    assert pending["item"] == item and message in pending["message"], pending


def test_visits_and_validity_are_read_from_an_occurrence_timing():
    bundle = the_bundle()
    request = resource(bundle, "ServiceRequest")
    del request["quantityQuantity"], request["occurrencePeriod"]
    request["occurrenceTiming"] = {
        "repeat": {
            "count": 12,
            "frequency": 2,
            "period": 1,
            "periodUnit": "wk",
            "boundsPeriod": {"start": "2026-12-01", "end": "2027-01-31"},
        }
    }
    taken = assessed(bundle).referral
    assert (taken.authorized_visits, taken.valid_from, taken.expires_on) == (
        12,
        date(2026, 12, 1),
        date(2027, 1, 31),
    )
    assert (taken.visits_per_period.visits, taken.visits_per_period.unit) == (2, "wk")


def test_a_referral_without_an_end_date_gets_the_clinics_default_validity_and_a_notice():
    bundle = the_bundle()
    del resource(bundle, "ServiceRequest")["occurrencePeriod"]["end"]

    taken = assessed(bundle, days=60)

    assert taken.pending == [] and taken.problems == {}
    assert taken.referral.expires_on == date(2026, 12, 1) + timedelta(days=59)
    assert [n.field for n in taken.referral.notices] == ["expires_on"]


def test_a_prescribers_phone_that_does_not_validate_is_kept_as_sent_and_noticed():
    bundle = the_bundle()
    resource(bundle, "Practitioner")["telecom"][0]["value"] = "(555) 566 3494"
    taken = assessed(bundle)
    assert taken.problems == {} and taken.pending == []
    assert taken.referral.requester.phone == "(555) 566 3494"
    [notice] = taken.referral.notices
    assert notice.field == "requester.phone" and "kept as sent" in notice.message


@pytest.mark.parametrize(
    ("npi", "ok"), [("1234567893", True), ("8554084011", True), ("9941339108", False)]
)
def test_an_npi_is_checked_by_its_check_digit(npi, ok):
    assert npi_check_digit_ok(npi) is ok


# --- the third-party examples: each gets its expected outcome ------------------------------

FILES = sorted(n for n in os.listdir(FOLDER) if n.endswith(".json")) if FOLDER.is_dir() else []


def test_the_shared_examples_are_there_sixteen_of_them_each_with_its_expectation():
    assert FOLDER.is_dir(), "../shared/fhir-examples/ (next to the repository) is needed"
    assert sorted(EXAMPLES) == FILES


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_shared_example_gets_the_outcome_its_name_says(name):
    expected = EXAMPLES[name]
    try:
        taken = assessed(third_party(name, TODAY))
    except ReferralFormError as refused:
        assert expected.outcome == "rejected", refused.errors
        assert expected.field in refused.errors
        return
    assert taken.problems == {}, taken.problems
    assert items(taken) == list(expected.pending), taken.pending
    assert expected.outcome == ("needs_review" if taken.pending else "accepted")
    assert name.startswith("review-" if taken.pending else "accepted-")
