"""The review state through the real intake API and database: a referral the clinic can settle with
the prescriber is held (attached to nobody, nothing emitted inside), staff supply what is missing
and it is accepted, or decline it; each guarded by the version, audited, with its events in the
same write."""

from __future__ import annotations

import json
from datetime import date, timedelta

from services.intake.repository import indexes
from testkit.referrals import fhir_referral, native_referral, resource
from testkit.staff import bearer

FHIR = "application/fhir+json"


def submit(client, key, body, content_type="application/json", **headers):
    return client.post(
        "/referrals",
        data=json.dumps(body),
        content_type=content_type,
        headers={**bearer(key), **headers},
    )


def snomed_only():
    bundle = fhir_referral()
    for n in (0, 1):
        resource(bundle, "Condition", n)["code"]["coding"][0].update(
            system="http://snomed.info/sct", code="279039007"
        )
    return bundle


def statuses(world, referral_id):
    return [
        e
        for e in world.pending_events(indexes.REFERRALS)
        if e["data"].get("referral_id") == referral_id
    ]


def test_a_held_referral_is_attached_to_nobody_and_only_the_partner_hears_it(
    client, world, partner_key
):
    response = submit(client, partner_key, snomed_only(), FHIR)

    assert response.status_code == 201, response.json
    receipt = response.json
    assert (receipt["outcome"], receipt["status"], receipt["patient_id"]) == (
        "held",
        "needs_review",
        None,
    )
    assert [p["item"] for p in receipt["pending"]] == ["diagnosis_code"]
    assert world.count(indexes.PATIENTS) == 0
    [received] = statuses(world, receipt["referral_id"])
    assert received["type"] == "referral.received"
    assert received["data"]["pending"] == receipt["pending"]


def test_staff_list_held_referrals_supply_the_code_and_it_is_accepted_with_its_events(
    client, world, partner_key, front_desk
):
    held = submit(client, partner_key, snomed_only(), FHIR).json
    listed = client.get("/referrals?status=needs_review", headers=bearer(front_desk)).json
    assert [r["referral_id"] for r in listed["items"]] == [held["referral_id"]]

    answer = {"version": 1, "diagnoses": [{"code": "M54.50", "display": "Low back pain"}]}
    reviewed = client.post(
        f"/referrals/{held['referral_id']}/review", json=answer, headers=bearer(front_desk)
    )

    assert reviewed.status_code == 200, reviewed.json
    assert (reviewed.json["status"], reviewed.json["version"]) == ("accepted", 2)
    assert reviewed.json["terms"]["diagnoses"][0]["code"] == "M54.50"
    assert world.count(indexes.PATIENTS) == 1
    kinds = [(e["source"], e["type"]) for e in statuses(world, held["referral_id"])]
    assert kinds.count(("clinic/intake", "referral.accepted")) == 2  # the partner's and inside
    [entry] = world.audit(action="referral.review")
    assert entry["object"] == {"type": "referral", "id": held["referral_id"]}


def test_a_stale_version_or_an_item_not_pending_changes_nothing(
    client, world, partner_key, front_desk
):
    held = submit(client, partner_key, snomed_only(), FHIR).json
    url = f"/referrals/{held['referral_id']}/review"
    before = world.db[indexes.REFERRALS].find_one({"_id": held["referral_id"]})

    stale = client.post(
        url, json={"version": 7, "diagnoses": [{"code": "M54.50"}]}, headers=bearer(front_desk)
    )
    not_pending = client.post(
        url, json={"version": 1, "authorized_visits": 4}, headers=bearer(front_desk)
    )
    not_billable = client.post(
        url, json={"version": 1, "diagnoses": [{"code": "M54.5"}]}, headers=bearer(front_desk)
    )

    assert stale.status_code == 409
    assert not_pending.status_code == 422
    assert "authorized_visits" in not_pending.json["errors"]["json"]
    assert not_billable.status_code == 422
    assert world.db[indexes.REFERRALS].find_one({"_id": held["referral_id"]}) == before


def test_a_declined_referral_is_rejected_and_the_partner_and_clinic_hear_why(
    client, world, partner_key, front_desk
):
    held = submit(client, partner_key, snomed_only(), FHIR).json

    declined = client.post(
        f"/referrals/{held['referral_id']}/decline",
        json={"version": 1, "reason": "the prescriber could not give a diagnosis"},
        headers=bearer(front_desk),
    )

    assert declined.status_code == 200, declined.json
    assert declined.json["status"] == "rejected"
    rejected = [e for e in statuses(world, held["referral_id"]) if e["type"] == "referral.rejected"]
    assert [e["data"]["reasons"] for e in rejected][0] == [
        {"field": "review", "message": "the prescriber could not give a diagnosis"}
    ]
    assert world.count(indexes.PATIENTS) == 0
    again = client.post(
        f"/referrals/{held['referral_id']}/decline",
        json={"version": 2, "reason": "again"},
        headers=bearer(front_desk),
    )
    assert again.status_code == 409


def test_a_rate_without_a_total_and_an_unknown_location_wait_and_are_settled_together(
    client, world, partner_key, front_desk
):
    body = native_referral(authorized_visits=None, location_id="harbor")
    held = submit(client, partner_key, body).json
    assert sorted(p["item"] for p in held["pending"]) == ["authorized_visits", "location"]

    answer = {"version": 1, "authorized_visits": 8, "location_id": "uptown"}
    reviewed = client.post(
        f"/referrals/{held['referral_id']}/review", json=answer, headers=bearer(front_desk)
    ).json

    assert (reviewed["status"], reviewed["location_id"]) == ("accepted", "uptown")
    assert reviewed["terms"]["authorized_visits"] == 8


def test_a_referral_without_an_end_date_gets_the_clinics_validity_set_by_its_admin(
    client, world, partner_key
):
    admin = world.key("clinic-a", "admin")
    tenant = client.get("/admin/tenant", headers=bearer(admin)).json
    changed = client.patch(
        "/admin/tenant",
        json={"version": tenant["version"], "settings": {"referral_validity_days": 30}},
        headers=bearer(admin),
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["settings"] == {"referral_validity_days": 30}

    receipt = submit(client, partner_key, native_referral(expires_on=None)).json

    assert receipt["outcome"] == "accepted"
    terms = world.db[indexes.REFERRALS].find_one({"_id": receipt["referral_id"]})["terms"]
    start = terms["valid_from"]
    assert terms["expires_on"] == str(date.fromisoformat(start) + timedelta(days=29))


def test_an_http_submission_with_an_idempotency_key_is_applied_once_and_its_status_answers_it(
    client, world, partner_key
):
    body = native_referral()
    first = submit(client, partner_key, body, **{"Idempotency-Key": "sub-42"})
    again = submit(client, partner_key, body, **{"Idempotency-Key": "sub-42"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["outcome"] == "duplicate"
    [status] = [e for e in statuses(world, first.json["referral_id"]) if "answers" in e["data"]]
    assert status["data"]["answers"] == {"id": "sub-42", "source": None}
    document = world.db[indexes.REFERRALS].find_one({"_id": first.json["referral_id"]})
    assert document["outbox"][0]["properties"] == {"correlation_id": "sub-42"}
