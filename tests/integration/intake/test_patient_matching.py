"""Which patient a referral goes to, through the real intake API and database: never another person.

The Eve/Betsy pair are third-party examples (`../shared/fhir-examples/`) whose patients carry the
same MRN of the same system: two people, who must stay two patients.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.intake.domain.referral import Identifier, ReferredPatient
from services.intake.repository import indexes
from services.intake.usecases.patient_matching import place_patient
from testkit.fhir_examples import third_party
from testkit.referrals import fhir_referral, native_referral, resource
from testkit.staff import bearer

FHIR = "application/fhir+json"
EVE = "accepted-bser-arthritis-referral-message.json"
BETSY = "accepted-pacio-toc-pt-referral-practitionerrole.json"
MEDICARE = "http://hl7.org/fhir/sid/us-medicare"


def post(client, key, body, content_type="application/json"):
    response = client.post(
        "/referrals", data=json.dumps(body), content_type=content_type, headers=bearer(key)
    )
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def other_partner(world):
    world.partner("other-ehr", ["clinic-a"])
    return world.key("clinic-a", "partner", partner_id="other-ehr")


def stored_patient(world, patient_id):
    return world.db[indexes.PATIENTS].find_one({"_id": patient_id})


def review(client, key, referral_id, **answer):
    version = client.get(f"/referrals/{referral_id}", headers=bearer(key)).json["version"]
    response = client.post(
        f"/referrals/{referral_id}/review", json={"version": version, **answer}, headers=bearer(key)
    )
    assert response.status_code == 200, response.json
    return response.json


def test_eve_and_betsy_sharing_an_mrn_stay_two_patients_and_the_second_waits_for_staff(
    client, world, partner_key, front_desk
):
    eve = post(client, partner_key, third_party(EVE), FHIR)
    eve_before = stored_patient(world, eve["patient_id"])

    betsy = post(client, partner_key, third_party(BETSY), FHIR)

    assert (betsy["outcome"], betsy["status"], betsy["patient_id"]) == (
        "held",
        "needs_review",
        None,
    )
    assert [p["item"] for p in betsy["pending"]] == ["patient_identity"]
    assert world.count(indexes.PATIENTS) == 1
    assert stored_patient(world, eve["patient_id"]) == eve_before
    held = client.get(f"/referrals/{betsy['referral_id']}", headers=bearer(front_desk)).json
    assert held["pending"][0]["patient_ids"] == [eve["patient_id"]]
    as_partner = client.get(f"/referrals/{betsy['referral_id']}", headers=bearer(partner_key))
    assert "patient_ids" not in as_partner.json["pending"][0]  # never another patient's id
    listed = client.get("/referrals?status=needs_review", headers=bearer(partner_key)).json
    assert "patient_ids" not in listed["items"][0]["pending"][0]
    betsy_news = [
        e
        for e in world.pending_events(indexes.REFERRALS)
        if e["data"].get("referral_id") == betsy["referral_id"]
    ]
    assert [e["type"] for e in betsy_news] == ["referral.received"]  # the partner's only

    accepted = review(client, front_desk, betsy["referral_id"], patient={"register_new": True})

    assert accepted["status"] == "accepted" and accepted["patient_id"] != eve["patient_id"]
    assert world.count(indexes.PATIENTS) == 2
    assert stored_patient(world, eve["patient_id"]) == eve_before
    read = client.get(f"/patients/{accepted['patient_id']}", headers=bearer(front_desk)).json
    assert (read["family_name"], read["birth_date"]) == ("Smith-Johnson", "1958-11-01")
    assert MEDICARE in {i["system"] for i in read["identifiers"]}
    assert read["distinct_from"] == [eve["patient_id"]]
    betsy_news = [
        e
        for e in world.pending_events(indexes.REFERRALS)
        if e["data"].get("referral_id") == betsy["referral_id"] and "patient" in e["data"]
    ]
    assert [e["data"]["patient"]["family_name"] for e in betsy_news] == ["Smith-Johnson"]

    again = third_party(BETSY)
    resource(again, "ServiceRequest")["identifier"][0]["value"] = "BSJ-2"
    second = post(client, partner_key, again, FHIR)  # settled once: not asked again

    assert (second["outcome"], second["patient_id"]) == ("accepted", accepted["patient_id"])
    assert stored_patient(world, eve["patient_id"]) == eve_before


def test_twins_with_the_same_family_name_birth_date_address_and_email_are_two_patients(
    client, world, partner_key
):
    body = native_referral()
    body["patient"] = {**body["patient"], "identifiers": [], "phone": None}
    twin = native_referral()
    twin["patient"] = {**body["patient"], "given_name": "Lucia"}

    first, second = post(client, partner_key, body), post(client, partner_key, twin)

    assert first["patient_id"] != second["patient_id"]
    assert world.count(indexes.PATIENTS) == 2
    assert (first["status"], second["status"]) == ("accepted", "accepted")  # no doubt either


def married(name_entries):
    body = fhir_referral()
    patient = resource(body, "Patient")
    patient["name"] = name_entries
    patient["telecom"] = [{"system": "email", "value": "maria.okafor@example.com"}]
    return body


OKAFOR = {"family": "Okafor", "given": ["Maria", "Elena"]}
ALVAREZ_UNTIL_2025 = {
    "use": "old",
    "family": "Alvarez",
    "given": ["Maria", "Elena"],
    "period": {"end": "2025-06-01"},
}


def test_a_married_name_change_documented_as_an_old_name_is_the_same_patient_unchanged(
    client, world, partner_key
):
    first = post(client, partner_key, fhir_referral(), FHIR)
    before = stored_patient(world, first["patient_id"])

    second = post(client, partner_key, married([ALVAREZ_UNTIL_2025, OKAFOR]), FHIR)

    assert second["patient_id"] == first["patient_id"]
    assert world.count(indexes.PATIENTS) == 1
    after = stored_patient(world, first["patient_id"])
    assert (after["family_name"], after["email"]) == ("Alvarez", "maria.alvarez@example.com")
    assert after == before  # same location: nothing of the patient changed
    terms = world.db[indexes.REFERRALS].find_one({"_id": second["referral_id"]})["terms"]
    assert terms["patient"]["family_name"] == "Okafor"
    assert terms["patient"]["former_names"] == [
        {"given_name": "Maria Elena", "family_name": "Alvarez"}
    ]


def test_a_new_family_name_the_referral_does_not_explain_waits_for_staff_not_a_match(
    client, world, partner_key, front_desk
):
    first = post(client, partner_key, fhir_referral(), FHIR)
    before = stored_patient(world, first["patient_id"])

    second = post(client, partner_key, married([OKAFOR]), FHIR)

    assert (second["status"], second["patient_id"]) == ("needs_review", None)
    assert stored_patient(world, first["patient_id"]) == before
    held = client.get(f"/referrals/{second['referral_id']}", headers=bearer(front_desk)).json
    assert held["pending"][0]["patient_ids"] == [first["patient_id"]]

    linked = review(
        client, front_desk, second["referral_id"], patient={"link_to": first["patient_id"]}
    )

    assert linked["patient_id"] == first["patient_id"]
    assert {k: v for k, v in stored_patient(world, first["patient_id"]).items()} == before


def test_another_partner_reusing_the_first_partners_identifier_reaches_no_patient_of_it(
    client, world, partner_key, other_partner
):
    maria = native_referral()
    mrn = maria["patient"]["identifiers"]
    first = post(client, partner_key, maria)
    before = stored_patient(world, first["patient_id"])
    someone_else = native_referral()
    someone_else["patient"] = {
        **someone_else["patient"],
        "given_name": "Betsy",
        "family_name": "Smith-Johnson",
        "birth_date": "1958-11-01",
        "email": "betsy@example.com",
        "phone": None,
        "identifiers": mrn,
    }
    same_person_no_contact = native_referral()
    same_person_no_contact["patient"] = {
        **same_person_no_contact["patient"],
        "email": None,
        "phone": None,
        "identifiers": mrn,
    }

    other = post(client, other_partner, someone_else)
    same = post(client, other_partner, same_person_no_contact)

    assert len({first["patient_id"], other["patient_id"], same["patient_id"]}) == 3
    assert stored_patient(world, first["patient_id"]) == before
    assert {
        i["supplied_by"] for i in stored_patient(world, other["patient_id"])["identifiers"]
    } == {"partner:other-ehr"}


def test_a_match_adds_only_the_location_never_identifiers_or_contact_details(
    client, world, partner_key
):
    first = native_referral(location_id="main")
    first["patient"] = {**first["patient"], "identifiers": [], "phone": None}
    returning = native_referral(location_id="uptown")
    returning["patient"] = {**returning["patient"], "phone": "+16175550199"}

    one, two = post(client, partner_key, first), post(client, partner_key, returning)

    assert one["patient_id"] == two["patient_id"]
    stored = stored_patient(world, one["patient_id"])
    assert (stored["location_ids"], stored["identifiers"], stored["phone"]) == (
        ["main", "uptown"],
        [],
        None,
    )


# --- property, with the real database: different birth dates never make one patient -------

MRNS = st.builds(
    Identifier, st.sampled_from(["1032702", "10A3D58WH1600"]), st.just("urn:hospital-mrn")
)
people = st.builds(
    ReferredPatient,
    given_name=st.sampled_from(["Eve", "E.", "Betsy"]),
    family_name=st.sampled_from(["Everywoman", "EVERYWOMAN", "Smith-Johnson"]),
    birth_date=st.just(date(1974, 11, 24)),
    email=st.sampled_from([None, "eve@example.com"]),
    phone=st.sampled_from([None, "+14045551212"]),
    identifiers=st.lists(
        st.one_of(MRNS, st.builds(Identifier, st.just("1EG4TE5MK73"), st.just(MEDICARE))),
        max_size=2,
    ),
)
partners = st.sampled_from(["partner_key-ehr", "other-ehr", None])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(people, partners, people, partners, st.integers(1, 3000))
def test_two_referred_patients_whose_birth_dates_differ_never_end_as_one_patient(
    world, first, first_partner, second, second_partner, days
):
    db = world.db
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    second = replace(second, birth_date=first.birth_date - timedelta(days=days))
    placed = [
        place_patient(world.deps, tenant, person, "main", partner_id=partner)
        for person, partner in ((first, first_partner), (second, second_partner))
    ]
    first_id = placed[0].patient["_id"]
    if placed[1].patient is None:  # held for staff, naming the record it collides with
        assert placed[1].doubts == (first_id,)
        assert db[indexes.PATIENTS].count_documents({"tenant_id": tenant}) == 1
    else:
        assert placed[1].patient["_id"] != first_id
        assert db[indexes.PATIENTS].count_documents({"tenant_id": tenant}) == 2


def test_staffs_answer_about_who_the_patient_is_does_not_outlive_an_amendment_of_the_patient(
    client, world, partner_key, front_desk
):
    first = post(client, partner_key, fhir_referral(), FHIR)
    doubtful = married([OKAFOR])
    for n in (0, 1):
        coding = resource(doubtful, "Condition", n)["code"]["coding"][0]
        coding.update(system="http://snomed.info/sct", code="279039007")
    held = post(client, partner_key, doubtful, FHIR)
    assert sorted(p["item"] for p in held["pending"]) == ["diagnosis_code", "patient_identity"]
    answered = review(
        client, front_desk, held["referral_id"], patient={"link_to": first["patient_id"]}
    )
    assert answered["status"] == "needs_review"  # the code is still to settle

    someone_else = resource(doubtful, "Patient")
    someone_else["name"] = [{"family": "Zed", "given": ["Other"]}]
    someone_else["identifier"] = [{"system": "urn:other-mrn", "value": "Z-1"}]
    someone_else["telecom"] = [{"system": "email", "value": "zed@example.org"}]
    amended = client.post(
        "/referrals", data=json.dumps(doubtful), content_type=FHIR, headers=bearer(partner_key)
    ).json
    assert amended["outcome"] == "amended"

    accepted = review(client, front_desk, held["referral_id"], diagnoses=[{"code": "M54.50"}])

    assert accepted["status"] == "accepted"
    assert accepted["patient_id"] != first["patient_id"]  # never the record chosen for another
    assert stored_patient(world, accepted["patient_id"])["family_name"] == "Zed"
