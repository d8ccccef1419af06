"""The loop closed over AMQP: planning's events of a referral's care reach intake's worker (queue
`intake.planning-events`) and the partner that sent the referral hears each once on its own
status queue, as a FHIR Task or as native data; nobody else hears anything, and an event that
cannot be applied is dead-lettered with its reason and changes nothing."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.events import new_event
from shared.events.consumer import REASON_HEADER
from shared.events.publisher import ConfirmedPublisher
from testkit.fhir_validation import fhir_problems
from testkit.partner import FHIR, referral_id_of
from testkit.referrals import fhir_referral, native_referral
from testkit.staff import bearer
from testkit.waiting import wait_until
from tests.support.oversized import padded
from tests.unit.intake.closed_loop import planning_data

DLQ = "intake.planning-events.dlq"


@pytest.fixture
def planning(settings):
    """Publishes as planning does: to `planning.events`, routed by type, with confirms."""
    publisher = ConfirmedPublisher(settings)

    def publish(type_: str, referral_id: str, *, event_id: str | None = None, **changes) -> dict:
        data = {**planning_data(type_, sessions=changes.pop("sessions", 2)), **changes}
        data["referral_id"] = referral_id
        event = new_event(
            type_,
            source="clinic/planning",
            tenant_id="clinic-a",
            data=_json(data),
            id=event_id or uuid.uuid4().hex,
        )
        publisher.publish("planning.events", type_, event.to_json(), message_id=event.id)
        return event.to_dict()

    yield publish
    publisher.close()


def _json(data: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


@pytest.fixture
def partners(world, partner_system, start_worker):
    """A partner with FHIR status and one with native status, both referring to clinic-a."""
    fhir, native = partner_system(), partner_system()
    world.partner(fhir.partner_id, ["clinic-a"], status_format="fhir")
    world.partner(native.partner_id, ["clinic-a"])
    start_worker()
    return fhir, native


def accepted(partner, bundle_or_native, content_type) -> str:
    partner.refer("clinic-a", bundle_or_native, datacontenttype=content_type)
    status = wait_until(
        lambda: next((s for s in partner.statuses() if s["type"] == "referral.accepted"), None),
        timeout=15,
        message="the acceptance",
    )
    return referral_id_of(status)


def statuses_of(partner, type_: str, count: int = 1) -> list[dict]:
    return wait_until(
        lambda: (
            (found := [s for s in partner.statuses() if s["type"] == type_])
            and len(found) >= count
            and found
        ),
        timeout=15,
        message=f"{count} {type_} on {partner.status_queue}",
    )


def test_a_fhir_partner_hears_each_milestone_once_as_its_referrals_task(world, partners, planning):
    fhir, native = partners
    referral_id = accepted(fhir, fhir_referral("REF-LOOP"), FHIR)

    approval = planning("plan.activated", referral_id)
    planning("plan.activated", referral_id, event_id=approval["id"])  # redelivered
    [plan] = statuses_of(fhir, "referral.plan_approved")
    planning("progress.updated", referral_id, sessions=2)
    [progress] = statuses_of(fhir, "referral.progress_reported")
    planning("plan.completed", referral_id, sessions=4)
    [discharge] = statuses_of(fhir, "referral.discharged")

    tasks = [s["data"] for s in (plan, progress, discharge)]
    assert {s["datacontenttype"] for s in (plan, progress, discharge)} == {"application/fhir+json"}
    assert [t["status"] for t in tasks] == ["in-progress", "in-progress", "completed"]
    assert {t["id"] for t in tasks} == {referral_id.replace("_", "-")}
    assert all(t["focus"]["identifier"]["value"] == "REF-LOOP" for t in tasks)
    assert all(fhir_problems(t) == [] for t in tasks)
    assert plan["routing_key"] == f"{fhir.partner_id}.referral.plan_approved"
    assert native.statuses() == []  # the other partner hears nothing of it
    stored = world.db.referrals.find_one({"_id": referral_id})
    assert [m["kind"] for m in stored["milestones"]] == [
        "plan_approved", "progress_reported", "discharged",
    ]  # fmt: skip
    assert len(world.audit(action="referral.milestone_reported", **{"object.id": referral_id})) == 3


def test_a_native_partner_hears_the_same_milestones_as_native_data(partners, planning):
    _, native = partners
    referral_id = accepted(native, native_referral(partner_referral_id="REF-N"), "application/json")

    planning("plan.activated", referral_id)
    [plan] = statuses_of(native, "referral.plan_approved")
    planning("plan.discontinued", referral_id, sessions=1, reason="patient moved away")
    [discharge] = statuses_of(native, "referral.discharged")

    assert plan["datacontenttype"] == "application/json"
    assert (plan["data"]["status"], plan["data"]["plan"]["planned_sessions"]) == ("in_progress", 8)
    assert discharge["data"]["status"] == "discontinued"
    assert discharge["data"]["discharge"]["reason"] == "patient moved away"
    assert discharge["data"]["partner_referral_id"] == "REF-N"


def test_a_referral_the_front_desk_entered_makes_no_status_event(
    world, client, partners, planning, front_desk
):
    fhir, native = partners
    answer = client.post("/referrals", json=native_referral(), headers=bearer(front_desk))
    assert answer.status_code == 201, answer.json
    referral_id = answer.json["referral_id"]
    planning("plan.activated", referral_id)
    marker = accepted(fhir, fhir_referral("REF-AFTER"), FHIR)
    planning("plan.activated", marker)  # handled after the first one
    [heard] = statuses_of(fhir, "referral.plan_approved")

    assert heard["data"]["focus"]["identifier"]["value"] == "REF-AFTER"
    assert native.statuses() == []
    assert "milestones" not in world.db.referrals.find_one({"_id": referral_id})


def test_an_event_that_cannot_be_applied_is_dead_lettered_with_its_reason(
    world, partners, planning, rabbit_admin, vhost
):
    fhir, _ = partners
    referral_id = accepted(fhir, fhir_referral("REF-BAD"), FHIR)
    planning("progress.updated", referral_id, measures="not a list")
    planning("plan.activated", "ref_00000000000000000000")

    dead = wait_until(
        lambda: (found := rabbit_admin.get_messages(vhost, DLQ, 10)) and len(found) >= 2 and found,
        timeout=20,
        message="two dead letters",
    )
    reasons = sorted(m["properties"]["headers"][REASON_HEADER] for m in dead)
    assert reasons[0].startswith("plan.activated: no referral 'ref_00000000000000000000'")
    assert reasons[1].startswith("progress.updated: measures:")
    assert "milestones" not in world.db.referrals.find_one({"_id": referral_id})
    assert [s["type"] for s in fhir.statuses()] == ["referral.accepted"]


def test_a_5_mb_planning_event_is_dead_lettered_unread_and_the_next_one_is_applied(
    world, partners, settings, planning, rabbit_admin, vhost
):
    """Property 16 (limits) for AMQP: `MAX_EVENT_BYTES`, with intake's planning-events consumer."""
    fhir, _ = partners
    referral_id = accepted(fhir, fhir_referral("REF-HUGE"), FHIR)
    huge = new_event(
        "plan.activated", source="clinic/planning", tenant_id="clinic-a",
        data=_json({**planning_data("plan.activated", sessions=2), "referral_id": referral_id}),
    )  # fmt: skip
    body = padded(json.loads(huge.to_json()))
    publisher = ConfirmedPublisher(settings)
    try:
        publisher.publish("planning.events", huge.type, body, message_id=huge.id)
    finally:
        publisher.close()
    planning("plan.activated", referral_id)

    [approved] = statuses_of(fhir, "referral.plan_approved")  # the next one, once
    assert approved["data"]["status"] == "in-progress"
    [letter] = wait_until(
        lambda: rabbit_admin.get_messages(vhost, DLQ, 5, truncate=100),
        timeout=15,
        message="the dead letter",
    )
    assert letter["properties"]["headers"][REASON_HEADER] == (
        f"body is too large: {len(body)} bytes, more than the 2097152 an event may have"
    )
