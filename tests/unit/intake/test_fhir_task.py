"""The FHIR Task a partner with FHIR status receives (services/intake/domain/fhir_task.py): valid
FHIR R4 at every step of a referral's course, one Task per referral, and nothing beyond what the
referrer is owed."""

from __future__ import annotations

import json

import pytest

from services.intake.domain import fhir_task
from testkit.fhir_validation import fhir_problems
from tests.unit.intake.closed_loop import (
    CONTEXT,
    COURSE,
    planning_data,
    stored_referral,
    with_milestones,
)


def task_after(steps: int, **changes) -> dict:
    referral = with_milestones({**stored_referral(), **changes}, COURSE[:steps])
    return fhir_task.referral_task(referral, CONTEXT)


@pytest.mark.parametrize("steps", range(len(COURSE) + 1))
def test_the_task_is_valid_fhir_r4_at_every_step_of_the_course(steps):
    assert fhir_problems(task_after(steps)) == []


def test_its_status_follows_care_accepted_in_progress_completed():
    statuses = [task_after(steps)["status"] for steps in range(len(COURSE) + 1)]
    assert statuses == ["accepted", "in-progress", "in-progress", "in-progress", "completed"]


def test_one_task_per_referral_focused_on_the_partners_service_request():
    tasks = [task_after(steps) for steps in range(len(COURSE) + 1)]
    assert {t["id"] for t in tasks} == {"ref-0123456789abcdef0123"}
    for task in tasks:
        assert task["intent"] == "order"
        assert task["focus"] == {
            "type": "ServiceRequest",
            "identifier": {"value": "REF-2026-10-4471"},
        }
        assert task["identifier"] == [
            {
                "system": "https://intake.clinic.example/referrals",
                "value": "ref_0123456789abcdef0123",
            }
        ]
        assert task["for"]["display"] == "Maria Elena Alvarez"
        assert task["for"]["identifier"]["value"] == "MRN-558201"
        assert task["requester"]["identifier"] == {
            "system": "http://hl7.org/fhir/sid/us-npi",
            "value": "1234567893",
        }
        assert task["owner"]["display"] == "Northside Massage"


def test_the_output_carries_the_plan_each_progress_report_and_the_discharge_summary():
    task = task_after(len(COURSE))
    kinds = [o["type"]["coding"][0]["code"] for o in task["output"]]
    assert kinds[0] == "18776-5"  # plan of care
    assert kinds.count("11506-3") == 6  # two progress reports, three measures each
    assert "18842-5" in kinds  # discharge summary
    [summary] = [o["valueString"] for o in task["output"] if "valueString" in o]
    assert summary == "Treatment completed after 4 sessions. Reason: goals met"
    contained = {r["id"]: r for r in task["contained"]}
    careplan = contained["careplan"]
    assert careplan["status"] == "completed"
    assert careplan["activity"][0]["detail"]["scheduledTiming"]["repeat"]["count"] == 8
    assert [contained[g["reference"][1:]]["resourceType"] for g in careplan["goal"]] == ["Goal"] * 2


def test_outcome_measures_are_observations_coded_in_loinc_where_the_measure_has_a_code():
    task = task_after(2)
    observations = [r for r in task["contained"] if r["resourceType"] == "Observation"]
    by_name = {o["code"]["text"]: o for o in observations}
    nprs = by_name["Numeric Pain Rating Scale"]
    assert nprs["code"]["coding"] == [
        {"system": "http://loinc.org", "code": "72514-3", "display": "Numeric Pain Rating Scale"}
    ]
    assert nprs["valueQuantity"]["value"] == 5
    assert nprs["interpretation"][0]["coding"][0]["code"] == "B"
    assert by_name["Neck Disability Index"]["code"]["coding"][0]["code"] == "82237-9"
    assert by_name["Neck Disability Index"]["valueQuantity"]["code"] == "%"
    assert "coding" not in by_name["Oswestry Disability Index"]["code"]  # no LOINC code known
    assert "interpretation" not in by_name["Oswestry Disability Index"]


def test_a_report_that_arrives_after_the_discharge_never_moves_the_task_back():
    late = [*COURSE, ("progress.updated", 3)]
    referral = with_milestones(stored_referral(), late)
    task = fhir_task.referral_task(referral, CONTEXT)
    assert task["status"] == "completed"
    assert fhir_problems(task) == []


def test_a_stopped_treatment_is_a_failed_task_with_its_reason():
    course = [("plan.activated", 0), ("plan.discontinued", 1)]
    referral = with_milestones(stored_referral(), course)
    referral["milestones"][-1]["reason"] = "patient moved away"
    task = fhir_task.referral_task(referral, CONTEXT)
    assert (task["status"], task["statusReason"]["text"]) == ("failed", "patient moved away")
    assert {r["id"]: r for r in task["contained"]}["careplan"]["status"] == "revoked"
    assert fhir_problems(task) == []


def test_received_cancelled_and_rejected_tasks_are_valid_too():
    received = fhir_task.referral_task(
        {**stored_referral(), "status": "needs_review"}, CONTEXT, reason="pending: visit count"
    )
    cancelled = fhir_task.referral_task(
        {**stored_referral(), "status": "cancelled", "cancellation": {"reason": "moved"}}, CONTEXT
    )
    refused = fhir_task.refusal_task(
        "0f" * 16,
        "REF-9",
        [{"field": "status", "message": "'draft' referrals do not authorize visits"}],
        CONTEXT,
    )
    assert [t["status"] for t in (received, cancelled, refused)] == [
        "received",
        "cancelled",
        "rejected",
    ]
    assert refused["statusReason"]["text"] == "status: 'draft' referrals do not authorize visits"
    for task in (received, cancelled, refused):
        assert fhir_problems(task) == []


def test_the_task_says_nothing_the_referrer_is_not_owed():
    referral = with_milestones(stored_referral(), COURSE)
    text = json.dumps(fhir_task.referral_task(referral, CONTEXT))
    assert "pln_" not in text and "pat_" not in text  # no internal plan or patient ids
    for diagnosis in referral["terms"]["diagnoses"]:  # the partner sent them; not echoed back
        assert diagnosis["code"] not in text
    assert "maria.alvarez@example.com" not in text and "d.chen@" not in text
    assert planning_data("plan.activated")["referrer"]["email"] not in text


def test_the_validator_finds_a_broken_contained_resource_and_a_dangling_reference():
    task = task_after(2)
    observation = next(r for r in task["contained"] if r["resourceType"] == "Observation")
    observation["status"] = "done"
    task["output"][0]["valueReference"]["reference"] = "#nowhere"
    problems = fhir_problems(task)
    assert any("'done' is not one of" in p for p in problems)
    assert "reference '#nowhere' names no contained resource" in problems
    assert "contained 'careplan' is referenced from nowhere (dom-3)" in problems
    del task["intent"]
    assert any("intent" in p and "required" in p for p in fhir_problems(task))
