"""The HTTP convention of docs/api.md on every intake endpoint: lists answer a page, an object's own
id is `<resource>_id` in a POST answer, a GET and a list item alike, and errors have one shape."""

from __future__ import annotations

import pytest

from testkit.referrals import native_referral
from testkit.staff import bearer

PAGE_FIELDS = {"items", "page", "page_size", "total"}
SIGNED = {"signed_by": "Maria Elena Alvarez", "agreed": True, "email": True, "sms": False}


@pytest.fixture
def admin(world):
    world.partner("acme-ehr", ["clinic-a"])
    return bearer(world.key("clinic-a", "admin"))


@pytest.fixture
def made(client, admin):
    """A referral, its patient and its intake, as the POST answers named them."""
    receipt = client.post("/referrals", json=native_referral(), headers=admin).json
    form = {"referral_id": receipt["referral_id"], "consent": SIGNED}
    intake = client.post("/intakes", json=form, headers=admin).json
    return {"referral": receipt, "intake": intake}


@pytest.mark.parametrize(
    ("path", "id_field"),
    [
        ("/referrals", "referral_id"),
        ("/patients", "patient_id"),
        ("/intakes", "intake_id"),
        ("/admin/keys", "key_id"),
        ("/admin/partners", "partner_id"),
    ],
)
def test_every_list_answers_a_page_whose_items_carry_their_own_id(
    client, admin, made, path, id_field
):
    response = client.get(path, headers=admin)

    assert response.status_code == 200, response.json
    page = response.json
    assert set(page) == PAGE_FIELDS
    assert (page["page"], page["page_size"], page["total"]) == (1, 50, len(page["items"]))
    assert page["items"] and all(item[id_field] for item in page["items"])
    assert not any("id" in item or "_id" in item for item in page["items"])


def test_a_referral_patient_and_intake_are_named_alike_in_post_get_and_list(client, admin, made):
    referral_id = made["referral"]["referral_id"]
    patient_id = made["referral"]["patient_id"]
    intake_id = made["intake"]["intake_id"]

    assert client.get(f"/referrals/{referral_id}", headers=admin).json["referral_id"] == referral_id
    assert client.get(f"/patients/{patient_id}", headers=admin).json["patient_id"] == patient_id
    assert client.get(f"/intakes/{intake_id}", headers=admin).json["intake_id"] == intake_id
    listed = {
        "referral_id": client.get("/referrals", headers=admin).json["items"][0]["referral_id"],
        "patient_id": client.get("/patients", headers=admin).json["items"][0]["patient_id"],
        "intake_id": client.get("/intakes", headers=admin).json["items"][0]["intake_id"],
    }
    assert listed == {"referral_id": referral_id, "patient_id": patient_id, "intake_id": intake_id}


def test_the_clinic_and_its_partners_are_named_by_their_own_ids(client, admin):
    assert client.get("/admin/tenant", headers=admin).json["tenant_id"] == "clinic-a"
    [partner] = client.get("/admin/partners", headers=admin).json["items"]
    assert partner == {"partner_id": "acme-ehr", "name": "Acme-Ehr", "status_format": "native"}


def test_a_page_past_the_end_is_empty_and_still_counts_every_match(client, admin, made):
    page = client.get("/referrals?page=2&page_size=1", headers=admin).json
    assert (page["items"], page["page"], page["page_size"], page["total"]) == ([], 2, 1, 1)


def test_a_bad_page_size_names_the_query_field_and_an_unknown_object_is_a_404_of_one_shape(
    client, admin
):
    bad = client.get("/patients?page_size=0", headers=admin)
    assert bad.status_code == 422 and "page_size" in bad.json["errors"]["query"]
    missing = client.get("/intakes/int_00000000000000000000", headers=admin)
    assert missing.status_code == 404
    assert set(missing.json) == {"code", "status", "message"}
