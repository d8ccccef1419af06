"""Clinic A never reaches clinic B's patients, referrals or intakes (404, never 403, never data), and a
therapist limited to a location sees only that location's patients."""

from __future__ import annotations

import pytest

from testkit.referrals import native_referral
from testkit.staff import bearer


@pytest.fixture
def seeded(client, world):
    """One referral (and patient) in each clinic, and one at clinic A's second location."""
    made = {}
    for tenant, location in (("clinic-a", "main"), ("clinic-a", "uptown"), ("clinic-b", "main")):
        key = world.key(tenant, "front_desk")
        body = native_referral(location_id=location)
        mrn = [{"system": "urn:mrn", "value": f"MRN-{tenant}-{location}"}]
        body["patient"] = {
            **body["patient"],
            "family_name": f"Family-{tenant}-{location}",
            "identifiers": mrn,
        }
        response = client.post("/referrals", json=body, headers=bearer(key))
        assert response.status_code == 201, response.json
        made[(tenant, location)] = response.json
    return made


def b_paths(seeded):
    receipt = seeded[("clinic-b", "main")]
    return [
        ("get", f"/patients/{receipt['patient_id']}", None),
        ("put", f"/patients/{receipt['patient_id']}/consent", {"email": False, "sms": True}),
        ("get", f"/referrals/{receipt['referral_id']}", None),
        ("post", f"/referrals/{receipt['referral_id']}/cancel", {"reason": "x"}),
    ]


def test_clinic_a_gets_404_for_every_object_of_clinic_b_and_changes_nothing(client, world, seeded):
    admin_a = world.key("clinic-a", "admin")
    before = {
        c: list(world.db[c].find({"tenant_id": "clinic-b"})) for c in ("patients", "referrals")
    }
    for method, path, body in b_paths(seeded):
        response = getattr(client, method)(path, json=body, headers=bearer(admin_a))
        assert response.status_code == 404, (method, path, response.json)
        assert "Family" not in response.get_data(as_text=True)
    after = {
        c: list(world.db[c].find({"tenant_id": "clinic-b"})) for c in ("patients", "referrals")
    }
    assert after == before


def test_lists_hold_only_the_callers_clinic(client, world, seeded):
    admin_a = world.key("clinic-a", "admin")
    patients = client.get("/patients", headers=bearer(admin_a)).json["items"]
    referrals = client.get("/referrals", headers=bearer(admin_a)).json["items"]
    assert {p["family_name"] for p in patients} == {
        "Family-clinic-a-main",
        "Family-clinic-a-uptown",
    }
    assert {r["referral_id"] for r in referrals} == {
        seeded[("clinic-a", loc)]["referral_id"] for loc in ("main", "uptown")
    }


def test_a_therapist_limited_to_one_location_sees_only_its_patients(client, world, seeded):
    therapist = world.key("clinic-a", "therapist", locations=["uptown"])
    patients = client.get("/patients", headers=bearer(therapist)).json["items"]
    assert [p["family_name"] for p in patients] == ["Family-clinic-a-uptown"]
    elsewhere = seeded[("clinic-a", "main")]
    assert (
        client.get(f"/patients/{elsewhere['patient_id']}", headers=bearer(therapist)).status_code
        == 404
    )
    assert (
        client.get(f"/referrals/{elsewhere['referral_id']}", headers=bearer(therapist)).status_code
        == 404
    )
    here = seeded[("clinic-a", "uptown")]
    assert (
        client.get(f"/patients/{here['patient_id']}", headers=bearer(therapist)).status_code == 200
    )


def test_a_partner_key_reads_only_its_own_referrals_and_no_patients(client, world, seeded):
    world.partner("acme-ehr", ["clinic-a"])
    partner = world.key("clinic-a", "partner", partner_id="acme-ehr")
    staff_made = seeded[("clinic-a", "main")]
    assert (
        client.get(f"/referrals/{staff_made['referral_id']}", headers=bearer(partner)).status_code
        == 404
    )
    assert client.get("/referrals", headers=bearer(partner)).json["items"] == []
    assert client.get("/patients", headers=bearer(partner)).status_code == 403


def test_every_read_of_patient_data_is_audited_without_patient_data(client, world, seeded):
    admin_a = world.key("clinic-a", "admin")
    patient_id = seeded[("clinic-a", "main")]["patient_id"]
    client.get(
        f"/patients/{patient_id}", headers={**bearer(admin_a), "X-Correlation-ID": "corr-42"}
    )
    [entry] = world.audit(action="patient.read")
    assert (entry["tenant_id"], entry["object"], entry["correlation_id"]) == (
        "clinic-a",
        {"type": "patient", "id": patient_id},
        "corr-42",
    )
    assert entry["actor"].startswith("admin:")
    assert "Family" not in str(world.audit())


def test_a_revoked_key_stops_working(client, world):
    from shared.web import auth

    admin = world.key("clinic-a", "admin")
    key_id = client.get("/admin/keys", headers=bearer(admin)).json["items"][0]["key_id"]
    assert client.delete(f"/admin/keys/{key_id}", headers=bearer(admin)).status_code == 200
    auth.clear_cache()  # the API caches keys for a few seconds
    assert client.get("/patients", headers=bearer(admin)).status_code == 401
