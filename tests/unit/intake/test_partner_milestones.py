"""The milestones of care a partner hears of (services/intake/domain/milestones.py) and their
status events (events.referral_milestone): native data as docs/partners.md lists it, or the FHIR
Task, routed to the partner's own queue."""

from __future__ import annotations

import json

import pytest
from marshmallow import ValidationError

from services.intake import events
from services.intake.domain import milestones
from shared.events.payloads import undeclared
from shared.events.payloads.intake import PARTNER_STATUS_PAYLOADS
from testkit.fhir_validation import fhir_problems
from tests.unit.intake.closed_loop import (
    ANSWERS,
    CONTEXT,
    COURSE,
    START,
    planning_data,
    stored_referral,
    with_milestones,
)


def status_events(status_format: str, course=COURSE, **stored) -> list:
    built = []
    for steps in range(1, len(course) + 1):
        referral = with_milestones({**stored_referral(), **stored}, course[:steps])
        built.append(
            events.referral_milestone(referral, referral["milestones"][-1], status_format, CONTEXT)
        )
    return built


def on_the_wire(outgoing) -> dict:
    return json.loads(outgoing.event.to_json())


def test_each_planning_event_is_one_milestone_and_one_status_type():
    assert [milestones.STATUS_TYPE[milestones.OF_PLANNING_EVENT[t]] for t, _ in COURSE] == [
        "referral.plan_approved",
        "referral.progress_reported",
        "referral.progress_reported",
        "referral.discharged",
    ]


def test_a_milestone_keeps_only_what_the_referrer_is_owed():
    kept = milestones.milestone("plan.activated", planning_data("plan.activated"), "k", START)
    assert kept == {
        "event": "k",
        "kind": "plan_approved",
        "at": "2026-11-03T09:30:00Z",
        "plan": {
            "techniques": ["myofascial release", "trigger point therapy"],
            "planned_sessions": 8,
            "frequency_per_week": 2,
            "goals": [
                {"measure": "NPRS", "baseline": 7.0, "target": 4.0},
                {"measure": "NDI", "baseline": 40.0, "target": 20.0},
            ],
        },
    }
    discharge = milestones.milestone(
        "plan.discontinued", planning_data("plan.discontinued", 3), "k2", START
    )
    assert (discharge["outcome"], discharge["sessions_completed"]) == ("discontinued", 3)
    assert "plan_id" not in discharge and "referrer" not in discharge


@pytest.mark.parametrize("outgoing", status_events("native"), ids=lambda o: o.event.type)
def test_native_milestones_load_with_their_schema_and_say_nothing_more(outgoing):
    wire = on_the_wire(outgoing)
    schema = PARTNER_STATUS_PAYLOADS[outgoing.event.type]()
    schema.load(wire["data"])
    assert undeclared(schema, wire["data"]) == []
    assert wire["datacontenttype"] == "application/json"
    assert outgoing.exchange == "partner.status"
    assert outgoing.routing_key == f"acme-ehr.{outgoing.event.type}"


def test_native_milestones_say_where_care_stands_and_carry_their_part():
    plan, first, second, discharge = (on_the_wire(o)["data"] for o in status_events("native"))
    assert [d["status"] for d in (plan, first, second, discharge)] == [
        "in_progress", "in_progress", "in_progress", "completed",
    ]  # fmt: skip
    assert plan["plan"]["planned_sessions"] == 8
    assert first["progress"]["sessions_completed"] == 2
    assert discharge["discharge"]["outcome"] == "completed"
    assert discharge["discharge"]["reason"] == "goals met"
    assert {d["partner_referral_id"] for d in (plan, discharge)} == {"REF-2026-10-4471"}


@pytest.mark.parametrize("outgoing", status_events("fhir"), ids=lambda o: o.event.type)
def test_fhir_partners_get_the_whole_task_as_fhir_json_under_the_same_types(outgoing):
    wire = on_the_wire(outgoing)
    assert wire["datacontenttype"] == "application/fhir+json"
    assert wire["data"]["resourceType"] == "Task"
    assert wire["data"]["id"] == "ref-0123456789abcdef0123"
    assert fhir_problems(wire["data"]) == []
    assert outgoing.routing_key == f"acme-ehr.{outgoing.event.type}"


def test_care_status_is_decided_by_every_milestone_not_the_latest_to_arrive():
    late = [*COURSE, ("progress.updated", 3)]
    *_, after_discharge = status_events("native", late)
    assert on_the_wire(after_discharge)["data"]["status"] == "completed"
    *_, as_task = status_events("fhir", late)
    assert on_the_wire(as_task)["data"]["status"] == "completed"


@pytest.mark.parametrize("status_format", ["native", "fhir"])
def test_a_milestone_names_the_partner_message_the_referral_stands_on(status_format):
    for outgoing in status_events(status_format):
        assert outgoing.properties == {"correlation_id": ANSWERS["id"]}
        if status_format == "native":
            assert on_the_wire(outgoing)["data"]["answers"] == ANSWERS


def test_a_milestone_of_a_referral_that_answers_nothing_has_no_correlation_id():
    """Sent over HTTP without an Idempotency-Key: there is no partner message to name."""
    for outgoing in status_events("native", answers=None):
        assert outgoing.properties == {}
        assert on_the_wire(outgoing)["data"]["answers"] is None


def test_a_plan_approval_carries_its_plan_and_no_other_part():
    plan_approved, progress, *_ = status_events("native")
    schema = PARTNER_STATUS_PAYLOADS["referral.plan_approved"]()
    wrong = {
        **on_the_wire(plan_approved)["data"],
        "progress": on_the_wire(progress)["data"]["progress"],
    }
    assert undeclared(schema, wrong) == ["progress"]
    with pytest.raises(ValidationError, match="plan"):
        schema.load({k: v for k, v in on_the_wire(plan_approved)["data"].items() if k != "plan"})
