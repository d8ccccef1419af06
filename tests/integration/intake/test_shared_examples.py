"""The sixteen third-party examples of ../shared/fhir-examples/, sent in any order over AMQP as a
partner and over HTTP: each gets its expected outcome (accepted; held with its pending items;
rejected with reasons naming the problem), and once staff settle the held ones there are exactly
as many patients as people (five: `testkit.fhir_examples.EXAMPLES` says whose each file is), none
changed by another person's referral.

Each file is sent as a referral of its own (`as_own_referral`: several reuse their source's
ServiceRequest identifier). Which of Eve and Betsy (one MRN, two people) waits for staff depends on
the order: whoever comes second, for as long as the other is the only one registered.
"""

from __future__ import annotations

import json
import random

import pytest

from services.intake.repository import indexes
from testkit.fhir_examples import EXAMPLES, PEOPLE, SHARING_AN_MRN, as_own_referral
from testkit.partner import FHIR
from testkit.staff import bearer
from testkit.waiting import wait_until

ORDERS = {
    "shuffled": random.Random(15).sample(sorted(EXAMPLES), len(EXAMPLES)),
    "reversed": sorted(EXAMPLES, reverse=True),
}
DEMOGRAPHICS = ("given_name", "family_name", "birth_date", "email", "phone", "identifiers",
                "address", "former_names", "gender", "language", "consent")  # fmt: skip


def expected_items(order: list[str]) -> dict[str, list[str]]:
    """Each non-rejected file's pending items, in that order: its own, and `patient_identity`
    when the person it shares an MRN with is registered and it is not (yet)."""
    registered: set[str] = set()
    found = {}
    for name in order:
        expected = EXAMPLES[name]
        if expected.outcome == "rejected":
            continue
        items = list(expected.pending)
        colliding = expected.person in SHARING_AN_MRN and expected.person not in registered
        other = next((p for p in SHARING_AN_MRN if p != expected.person), None)
        if colliding and other in registered:
            items.append("patient_identity")
        if not items:
            registered.add(expected.person)
        found[name] = items
    return found


def over_http(client, key, order):
    outcomes = {}
    for name in order:
        response = client.post(
            "/referrals",
            data=json.dumps(as_own_referral(name)),
            content_type=FHIR,
            headers=bearer(key),
        )
        assert response.status_code in (201, 422), (name, response.json)
        if response.status_code == 422:
            reasons = response.json["errors"]["json"]
            outcomes[name] = ("rejected", None, sorted(reasons))
        else:
            receipt = response.json
            items = [p["item"] for p in receipt["pending"]]
            outcomes[name] = (receipt["status"], receipt["referral_id"], items)
    return outcomes


def over_amqp(partner, order):
    sent = {partner.refer("clinic-a", as_own_referral(name), datacontenttype=FHIR)["id"]: name
            for name in order}  # fmt: skip
    statuses = wait_until(
        lambda: (found := partner.statuses()) and len(found) >= len(order) and found,
        timeout=60,
        message=f"{len(order)} status events",
    )
    outcomes = {}
    for status in statuses:
        name = sent[status["correlation_id"]]  # each answers its message
        assert status["data"]["answers"]["id"] == status["correlation_id"]
        data = status["data"]
        if status["type"] == "referral.rejected":
            outcomes[name] = ("rejected", None, sorted(r["field"] for r in data["reasons"]))
        else:
            state = {"referral.accepted": "accepted", "referral.received": "needs_review"}
            items = [p["item"] for p in data["pending"]]
            outcomes[name] = (state[status["type"]], data["referral_id"], items)
    assert len(outcomes) == len(order)
    return outcomes


def check_outcomes(outcomes, order):
    items = expected_items(order)
    for name, (status, _, got) in outcomes.items():
        expected = EXAMPLES[name]
        if expected.outcome == "rejected":
            assert status == "rejected" and expected.field in got, (name, got)
        else:
            assert status == ("needs_review" if items[name] else "accepted"), (name, got)
            assert got == items[name], (name, got)


def settle_every_held_one(client, front_desk, world, outcomes, order):
    """Staff answer each held referral (its own items, and who the patient is) until accepted."""
    patients: dict[str, str] = {}
    for name in order:
        status, referral_id, _ = outcomes[name]
        if status == "accepted":
            patients.setdefault(EXAMPLES[name].person, world_patient_of(world, referral_id))
    for name in order:
        status, referral_id, _ = outcomes[name]
        if status != "needs_review":
            continue
        person = EXAMPLES[name].person
        for _ in range(3):
            held = client.get(f"/referrals/{referral_id}", headers=bearer(front_desk)).json
            if held["status"] == "accepted":
                break
            answer = {"version": held["version"]}
            for item in (p["item"] for p in held["pending"]):
                if item == "patient_identity":
                    known = patients.get(person)
                    answer["patient"] = {"link_to": known} if known else {"register_new": True}
                else:
                    answer.update(EXAMPLES[name].answer)
            response = client.post(
                f"/referrals/{referral_id}/review", json=answer, headers=bearer(front_desk)
            )
            assert response.status_code == 200, (name, response.json)
        assert held["status"] == "accepted" or response.json["status"] == "accepted", name
        patients.setdefault(person, world_patient_of(world, referral_id))
    return patients


def world_patient_of(world, referral_id):
    return world.db[indexes.REFERRALS].find_one({"_id": referral_id})["patient_id"]


def demographics(world):
    return {
        p["_id"]: {k: p.get(k) for k in DEMOGRAPHICS} for p in world.db[indexes.PATIENTS].find()
    }


def check_patients(world, client, front_desk, outcomes, order, before):
    patients = settle_every_held_one(client, front_desk, world, outcomes, order)
    assert set(patients) == PEOPLE
    assert len(set(patients.values())) == len(PEOPLE)
    assert world.count(indexes.PATIENTS) == len(PEOPLE)
    after = demographics(world)
    assert {k: after[k] for k in before} == before  # nobody's data changed by another's referral
    names = {after[patients[p]]["family_name"] for p in ("eve", "betsy")}
    assert names == {"Everywoman", "Smith-Johnson"}
    mrns = {
        p: {(i["system"], i["value"]) for i in after[patients[p]]["identifiers"]}
        for p in SHARING_AN_MRN
    }
    assert ("http://hl7.org/fhir/sid/us-medicare", "10A3D58WH1600") not in mrns["eve"]
    held = world.count(indexes.REFERRALS, status="needs_review")
    assert held == 0


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
def test_over_http_every_example_gets_its_outcome_and_each_person_is_one_patient(
    client, world, partner_key, front_desk, order
):
    outcomes = over_http(client, partner_key, order)

    check_outcomes(outcomes, order)
    check_patients(world, client, front_desk, outcomes, order, demographics(world))


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
def test_over_amqp_every_example_gets_its_outcome_and_each_person_is_one_patient(
    client, world, front_desk, partner_system, start_worker, order
):
    partner = partner_system()
    world.partner(partner.partner_id, ["clinic-a"])
    start_worker()

    outcomes = over_amqp(partner, order)

    check_outcomes(outcomes, order)
    check_patients(world, client, front_desk, outcomes, order, demographics(world))
