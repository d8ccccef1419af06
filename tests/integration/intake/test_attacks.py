"""Intake's API and patient form under attack (in process, real stand-in database): another
clinic's intakes are not found and do not change (property 13); MongoDB operators in query
parameters and JSON fields are refused or literal, never run; client-sent `tenant_id`,
`status`, `_id` on an intake are refused (property 15); markup typed into the patient's form
comes back escaped. Each checks nothing stored changed."""

from __future__ import annotations

import pytest

from testkit.referrals import native_referral
from testkit.staff import bearer
from tests.integration.intake.test_intake_assessment import intake_form
from tests.integration.intake.test_web_form import answers, link_token, send
from tests.support.attacks import (
    body_attacks,
    everything_stored,
    ignored_or_refused,
    name_attacks,
    refused_or_literal,
    value_attacks,
)


def _referral(client, world, tenant: str) -> dict:
    made = client.post(
        "/referrals", json=native_referral(), headers=bearer(world.key(tenant, "front_desk"))
    )
    assert made.status_code == 201, made.json
    return made.json


@pytest.fixture
def clinic_b(client, world):
    """Clinic B's referral with its completed intake, and one referral still without one."""
    referral = _referral(client, world, "clinic-b")
    waiting = _referral(client, world, "clinic-b")
    therapist = bearer(world.key("clinic-b", "therapist"))
    intake = client.post("/intakes", json=intake_form(referral["referral_id"]), headers=therapist)
    assert intake.status_code == 201, intake.json
    return {"intake": intake.json, "waiting": waiting, "referral": referral}


@pytest.fixture
def clinic_a(client, world):
    referral = _referral(client, world, "clinic-a")
    therapist = bearer(world.key("clinic-a", "therapist"))
    intake = client.post("/intakes", json=intake_form(referral["referral_id"]), headers=therapist)
    assert intake.status_code == 201, intake.json
    return {"intake": intake.json, "referral": referral}


# --- property 13: another clinic's intakes -------------------------------------------------


def test_another_clinics_intakes_are_not_found_and_do_not_change(client, world, db, clinic_b):
    a = bearer(world.key("clinic-a", "admin"))
    a_therapist = bearer(world.key("clinic-a", "therapist"))
    intake_id = clinic_b["intake"]["intake_id"]
    before = everything_stored(db)

    assert client.get(f"/intakes/{intake_id}", headers=a).status_code == 404
    listed = client.get("/intakes", headers=a).json
    assert (listed["items"], listed["total"]) == ([], 0)
    by_referral = {"referral_id": clinic_b["referral"]["referral_id"]}
    assert client.get("/intakes", query_string=by_referral, headers=a).json["items"] == []
    cleared = client.post(
        f"/intakes/{intake_id}/clearances",
        json={"rule_ids": ["cancer_under_treatment"], "reason": "oncologist agrees"},
        headers=a,
    )
    assert cleared.status_code in (404, 422), cleared.json
    for referral in (clinic_b["waiting"], clinic_b["referral"]):  # B's referrals take no A intake
        taken = client.post(
            "/intakes", json=intake_form(referral["referral_id"]), headers=a_therapist
        )
        assert taken.status_code == 404, taken.json
    assert everything_stored(db) == before
    b = bearer(world.key("clinic-b", "admin"))
    assert client.get(f"/intakes/{intake_id}", headers=b).status_code == 200  # it is there


# --- MongoDB operator injection ------------------------------------------------------------

LISTS = {
    "/referrals": ("patient_id", "status", "location_id", "partner_id", "received_since", "page"),
    "/intakes": ("patient_id", "referral_id", "page", "page_size"),
    "/patients": ("patient_id", "page"),
}


@pytest.mark.parametrize("path", sorted(LISTS))
def test_operators_in_query_parameters_are_refused_or_literal_never_run(
    client, world, db, clinic_a, clinic_b, path
):
    a = bearer(world.key("clinic-a", "admin"))
    plain = client.get(path, headers=a).json
    before = everything_stored(db)
    assert plain["items"]  # there is something an operator could reveal
    for query in name_attacks(LISTS[path]):
        answer = client.get(path, query_string=query, headers=a)
        assert ignored_or_refused(answer.status_code, answer.json, plain), (query, answer.json)
    for query in value_attacks(LISTS[path]):
        answer = client.get(path, query_string=query, headers=a)
        assert refused_or_literal(answer.status_code, answer.json), (query, answer.json)
    assert everything_stored(db) == before


def test_operators_in_json_fields_are_refused_and_nothing_is_stored(client, world, db, clinic_a):
    front_desk = bearer(world.key("clinic-a", "front_desk"))
    therapist = bearer(world.key("clinic-a", "therapist"))
    waiting = _referral(client, world, "clinic-a")
    patient, referral = clinic_a["referral"]["patient_id"], waiting["referral_id"]
    referral_body = {k: v for k, v in native_referral().items() if k != "patient"}
    writes = [
        ("/referrals", front_desk, "post", referral_body),
        ("/intakes", therapist, "post", intake_form(referral)),
        (f"/patients/{patient}/consent", front_desk, "put", {"email": False, "sms": True}),
        (f"/referrals/{referral}/cancel", front_desk, "post", {"reason": "moved away"}),
    ]
    before = everything_stored(db)
    for path, key, method, body in writes:
        for field, attack in body_attacks(body):
            if path == "/referrals" and field in ("partner_referral_id",):
                attack = {**attack, "patient": native_referral()["patient"]}
            answer = getattr(client, method)(path, json=attack, headers=key)
            assert answer.status_code == 422, (path, field, attack[field], answer.json)
    nested = native_referral()
    nested["patient"] = {**nested["patient"], "family_name": {"$ne": None}}
    assert client.post("/referrals", json=nested, headers=front_desk).status_code == 422
    assert everything_stored(db) == before


# --- property 15: mass assignment on an intake -----------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("tenant_id", "clinic-b"), ("status", "cleared"), ("_id", "int_mine"), ("intake_id", "int_x"),
     ("screening", {"outcome": "clear"}), ("patient_id", "pat_other")],
)  # fmt: skip
def test_client_sent_bookkeeping_fields_of_an_intake_are_refused(client, world, db, field, value):
    waiting = _referral(client, world, "clinic-a")
    therapist = bearer(world.key("clinic-a", "therapist"))
    before = everything_stored(db)
    form = {**intake_form(waiting["referral_id"]), field: value}
    answer = client.post("/intakes", json=form, headers=therapist)
    assert answer.status_code == 422 and field in answer.json["errors"]["json"], answer.json
    assert everything_stored(db) == before


# --- markup in the patient's form ------------------------------------------------------------

MARKUP = "<img src=x onerror=alert(1)>"
TEMPLATE_CODE = "{{7*7}}"


def test_markup_typed_into_the_patient_form_comes_back_escaped(client, world, db):
    referral = _referral(client, world, "clinic-a")
    token = link_token(world, referral["referral_id"])
    before = everything_stored(db)
    typed = answers(
        signed_by="",  # refused: the form comes back with what was typed
        symptom_1_description=MARKUP,
        symptom_1_body_area=f"{TEMPLATE_CODE} <script>alert(2)</script>",
        medications=f"{MARKUP}\n{TEMPLATE_CODE}",
        history_notes=f'"><svg onload=alert(3)>{TEMPLATE_CODE}',
        surgery_1_area="</textarea><b>bold</b>",
    )
    response = send(client, token, typed)

    assert response.status_code == 422
    page = response.text
    for raw in (MARKUP, "<script>alert(2)", "<svg onload", "</textarea><b>"):
        assert raw not in page, raw
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert TEMPLATE_CODE in page  # shown as typed, never evaluated
    assert everything_stored(db) == before
