"""A partner with FHIR status hears every status of its referral as the referral's Task, over the
real broker: held (`received`, naming what is pending), accepted once staff settle it, declined,
cancelled, and a refused message as a rejected Task of its own; each valid FHIR R4, each with
the AMQP correlation id of the partner message it answers."""

from __future__ import annotations

import pytest

from testkit.fhir_validation import fhir_problems
from testkit.partner import FHIR, referral_id_of
from testkit.referrals import fhir_referral, resource
from testkit.staff import bearer
from testkit.waiting import wait_until


@pytest.fixture
def fhir_partner(world, partner_system, start_worker):
    """A partner with FHIR status, allowed at clinic-a, with the worker running."""
    system = partner_system()
    world.partner(system.partner_id, ["clinic-a"], status_format="fhir")
    start_worker()
    return system


def without_visit_count(reference: str) -> dict:
    """A referral the clinic can act on once it has the total number of visits."""
    bundle = fhir_referral(reference)
    del resource(bundle, "ServiceRequest")["quantityQuantity"]
    return bundle


def heard(partner, type_: str, count: int = 1) -> list[dict]:
    return wait_until(
        lambda: (
            (found := [s for s in partner.statuses() if s["type"] == type_])
            and len(found) >= count
            and found
        ),
        timeout=15,
        message=f"{count} {type_} on {partner.status_queue}",
    )


def assert_task(status: dict, task_status: str, reference: str) -> dict:
    task = status["data"]
    assert status["datacontenttype"] == FHIR
    assert (task["resourceType"], task["status"]) == ("Task", task_status)
    assert task["focus"]["identifier"]["value"] == reference
    assert fhir_problems(task) == []
    return task


def test_a_held_referral_is_a_received_task_and_accepted_when_staff_settle_it(
    client, fhir_partner, front_desk
):
    sent = fhir_partner.refer("clinic-a", without_visit_count("REF-HELD"), datacontenttype=FHIR)
    [received] = heard(fhir_partner, "referral.received")
    task = assert_task(received, "received", "REF-HELD")
    assert task["statusReason"]["text"].startswith("authorized_visits: no total number of visits")
    assert received["correlation_id"] == sent["id"]
    referral_id = referral_id_of(received)

    answer = {"version": 1, "authorized_visits": 8}
    reviewed = client.post(
        f"/referrals/{referral_id}/review", json=answer, headers=bearer(front_desk)
    )
    assert reviewed.status_code == 200, reviewed.json

    [accepted] = heard(fhir_partner, "referral.accepted")
    assert assert_task(accepted, "accepted", "REF-HELD")["id"] == task["id"]
    assert "statusReason" not in accepted["data"]
    assert accepted["correlation_id"] == sent["id"]  # it answers the referral staff settled
    assert accepted["routing_key"] == f"{fhir_partner.partner_id}.referral.accepted"


def test_a_declined_referral_is_a_rejected_task_with_the_clinics_reason(
    client, fhir_partner, front_desk
):
    fhir_partner.refer("clinic-a", without_visit_count("REF-DECL"), datacontenttype=FHIR)
    [received] = heard(fhir_partner, "referral.received")
    declined = client.post(
        f"/referrals/{referral_id_of(received)}/decline",
        json={"version": 1, "reason": "the prescriber could not be reached"},
        headers=bearer(front_desk),
    )
    assert declined.status_code == 200, declined.json

    [rejected] = heard(fhir_partner, "referral.rejected")
    task = assert_task(rejected, "rejected", "REF-DECL")
    assert task["id"] == received["data"]["id"]
    assert task["statusReason"]["text"] == "review: the prescriber could not be reached"


def test_a_cancelled_referral_is_a_cancelled_task_answering_the_cancellation(fhir_partner):
    fhir_partner.refer("clinic-a", fhir_referral("REF-CANC"), datacontenttype=FHIR)
    [accepted] = heard(fhir_partner, "referral.accepted")
    assert_task(accepted, "accepted", "REF-CANC")
    cancellation = fhir_partner.refer(
        "clinic-a",
        {"partner_referral_id": "REF-CANC", "reason": "Patient chose another clinic"},
        type="referral.cancelled",
    )

    [cancelled] = heard(fhir_partner, "referral.cancelled")
    task = assert_task(cancelled, "cancelled", "REF-CANC")
    assert task["id"] == accepted["data"]["id"]
    assert task["statusReason"]["text"] == "Patient chose another clinic"
    assert cancelled["correlation_id"] == cancellation["id"]


def test_a_refused_message_is_a_rejected_task_of_its_own(fhir_partner):
    bundle = fhir_referral("REF-DRAFT")
    resource(bundle, "ServiceRequest")["status"] = "draft"
    sent = fhir_partner.refer("clinic-a", bundle, datacontenttype=FHIR)

    [rejected] = heard(fhir_partner, "referral.rejected")
    task = assert_task(rejected, "rejected", "REF-DRAFT")
    assert task["id"].startswith("rej-")
    assert "ServiceRequest.status" in task["statusReason"]["text"]
    assert referral_id_of(rejected) is None  # nothing was stored of it
    assert rejected["correlation_id"] == sent["id"]
