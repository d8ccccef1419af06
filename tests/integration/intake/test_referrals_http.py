"""Referrals over HTTP: both forms, repeats, amendments, cancellation, and every refusal stores nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.intake.partner_forms.reading import read_referral
from services.intake.repository import indexes
from services.intake.usecases import referrals
from testkit.referrals import fhir_referral, native_referral, resource
from testkit.staff import bearer

FHIR = "application/fhir+json"


def post(client, key, body, content_type="application/json"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post("/referrals", data=data, content_type=content_type, headers=bearer(key))


def test_a_partner_posting_a_fhir_bundle_gets_the_referral_id_and_the_clinic_sees_it(
    client, world, partner_key, front_desk
):
    response = post(client, partner_key, fhir_referral("REF-F1"), FHIR)

    assert response.status_code == 201, response.json
    receipt = response.json
    assert receipt["outcome"] == "accepted"
    referral = client.get(f"/referrals/{receipt['referral_id']}", headers=bearer(front_desk)).json
    assert (referral["partner_id"], referral["partner_referral_id"], referral["form"]) == (
        "acme-ehr",
        "REF-F1",
        "fhir",
    )
    assert referral["location_id"] == "main"
    patient = client.get(f"/patients/{receipt['patient_id']}", headers=bearer(front_desk)).json
    assert (patient["family_name"], patient["phone"], patient["birth_date"]) == (
        "Alvarez",
        "+16175550134",
        "1978-04-12",
    )
    assert patient["consent"]["email"] is True and patient["consent"]["sms"] is False


def test_an_accepted_partner_referral_queues_the_internal_event_and_the_partner_status(
    client, world, partner_key
):
    post(client, partner_key, native_referral(partner_referral_id="REF-N1"))

    events = world.pending_events(indexes.REFERRALS)
    assert [e["type"] for e in events] == ["referral.accepted", "referral.accepted"]
    status, internal = events
    assert internal["data"]["intake_link"].startswith("http")
    assert internal["data"]["diagnoses"][0] == {
        "code": "M54.50",
        "display": "Low back pain, unspecified",
    }
    assert set(status["data"]) == {
        "partner_referral_id",
        "referral_id",
        "status",
        "reasons",
        "pending",
        "notices",
        "version",
        "answers",
    }
    assert status["data"]["answers"] is None  # sent without an Idempotency-Key
    registered = world.pending_events(indexes.PATIENTS)
    assert [e["type"] for e in registered] == ["patient.registered"]


def test_staff_may_submit_the_native_form_and_the_referral_has_no_partner(
    client, world, front_desk
):
    response = post(client, front_desk, native_referral())
    assert response.status_code == 201, response.json
    assert world.db.referrals.find_one()["partner_id"] is None
    assert [e["type"] for e in world.pending_events(indexes.REFERRALS)] == ["referral.accepted"]


def test_the_same_referral_twice_is_recognised_not_doubled(client, world, partner_key):
    body = native_referral()
    first = post(client, partner_key, body)
    again = post(client, partner_key, body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["outcome"] == "duplicate"
    assert again.json["referral_id"] == first.json["referral_id"]
    assert (world.count("referrals"), world.count("patients")) == (1, 1)


def test_an_amended_referral_updates_in_place_and_keeps_its_history(client, world, partner_key):
    body = native_referral()
    first = post(client, partner_key, body).json
    amended = post(client, partner_key, {**body, "authorized_visits": 12})

    assert amended.status_code == 200 and amended.json["outcome"] == "amended"
    stored = world.db.referrals.find_one({"_id": first["referral_id"]})
    assert (stored["version"], stored["terms"]["authorized_visits"]) == (2, 12)
    assert [(h["version"], h["terms"]["authorized_visits"]) for h in stored["history"]] == [(1, 8)]
    types = [e["type"] for e in world.pending_events(indexes.REFERRALS)]
    assert types == [
        "referral.accepted",
        "referral.accepted",
        "referral.accepted",
        "referral.amended",
    ]


def test_a_second_referral_for_the_same_person_matches_the_patient(client, world, partner_key):
    post(client, partner_key, native_referral())
    other = native_referral()
    other["patient"] = {**other["patient"], "identifiers": [], "phone": None}
    post(client, partner_key, other)
    assert (world.count("referrals"), world.count("patients")) == (2, 1)


def test_a_partner_cancels_its_referral_once(client, world, partner_key):
    receipt = post(client, partner_key, native_referral()).json
    path = f"/referrals/{receipt['referral_id']}/cancel"

    cancelled = client.post(path, json={"reason": "patient moved"}, headers=bearer(partner_key))
    again = client.post(path, json={"reason": "patient moved"}, headers=bearer(partner_key))

    assert (cancelled.json["outcome"], again.json["outcome"]) == ("cancelled", "duplicate")
    assert world.db.referrals.find_one()["status"] == "cancelled"
    assert [e["type"] for e in world.pending_events(indexes.REFERRALS)][-2:] == [
        "referral.cancelled"
    ] * 2


def drop_subject(body):
    del resource(body, "ServiceRequest")["subject"]


def a_plan(body):
    resource(body, "ServiceRequest")["intent"] = "plan"


@pytest.mark.parametrize(
    ("make", "content_type", "status", "field"),
    [
        (lambda: b'{"partner_referral_id": ', "application/json", 400, None),
        (lambda: {"resourceType": "Patient"}, FHIR, 422, "Bundle.resourceType"),
        (lambda: _changed(fhir_referral(), drop_subject), FHIR, 422, "ServiceRequest.subject"),
        (lambda: _changed(fhir_referral(), a_plan), FHIR, 422, "ServiceRequest.intent"),
        (lambda: native_referral(expires_on="2001-01-01"), "application/json", 422, "expires_on"),
        (
            lambda: native_referral(authorized_visits=0),
            "application/json",
            422,
            "authorized_visits",
        ),
        (lambda: native_referral(tenant_id="clinic-b"), "application/json", 422, "tenant_id"),
        (lambda: native_referral(status="draft"), "application/json", 422, "status"),
        (lambda: native_referral(), "text/plain", 415, None),
    ],
    ids=[
        "malformed-json",
        "not-a-bundle",
        "no-subject",
        "not-an-order",
        "expired",
        "no-visits",
        "tenant-id-sent",
        "draft",
        "text-plain",
    ],
)
def test_a_refused_referral_names_the_field_and_stores_nothing(
    client, world, partner_key, make, content_type, status, field
):
    response = post(client, partner_key, make(), content_type)

    assert response.status_code == status, response.json
    if field:
        assert field in response.json["errors"]["json"], response.json
    assert (world.count("referrals"), world.count("patients")) == (0, 0)
    [entry] = world.audit(action="referral.rejected")
    assert entry["outcome"] == "rejected" and entry["actor"].startswith("partner:")
    assert field is None or field in entry["detail"]


def _changed(body, change):
    change(body)
    return body


def test_an_oversized_body_gets_413(client, partner_key, settings):
    response = post(client, partner_key, b"x" * (settings.max_body_bytes + 1))
    assert response.status_code == 413


def test_a_referral_without_a_key_is_401_and_a_therapist_may_not_submit(client, world):
    assert client.post("/referrals", json=native_referral()).status_code == 401
    therapist = world.key("clinic-a", "therapist")
    assert post(client, therapist, native_referral()).status_code == 403


def test_a_repeat_is_recognised_even_after_the_referral_has_expired(world, deps):
    referral = read_referral("native", native_referral(), region="US")
    sender = referrals.Sender("clinic-a", None, actor="test", channel="http")
    first = referrals.receive(deps, sender, referral, form="native")
    much_later = datetime.now(UTC).date() + timedelta(days=400)
    again = referrals.receive(deps, sender, referral, form="native", today=much_later)
    assert (first.outcome, again.outcome) == ("accepted", "duplicate")
