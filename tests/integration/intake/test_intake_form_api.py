"""Staff record an intake on the patient's own form over the API: `GET /intakes/form` is the web
form as data (the same field names, questionnaires by diagnosis, checkbox values), and
`POST /intakes/form` reads, checks and completes it as the web form does (the patient record
then carries the screening, so lists show the precautions); each error under
`errors.json["answers.<field>"]`, nothing stored on an error; a second intake is a conflict."""

from __future__ import annotations

from services.intake.repository import indexes
from testkit.staff import bearer
from tests.integration.intake.test_web_form import Page, answers, link_token, open_form, refer


def definition(client, staff, referral_id):
    answer = client.get(f"/intakes/form?referral_id={referral_id}", headers=bearer(staff))
    assert answer.status_code == 200, answer.json
    return answer.json


def controls(form: dict) -> set[tuple[str, str]]:
    """(name, value of a checkbox or "") of every field of the definition."""
    return {
        (f["name"], f.get("value", "") if f["kind"] == "checkbox" else "")
        for section in form["sections"]
        for group in section["groups"]
        for row in group["rows"]
        for f in row
    }


def test_the_form_is_the_patients_web_form_as_data(client, world):
    staff = world.key("clinic-a", "front_desk")
    referral_id = refer(client, staff, diagnoses=[{"code": "M54.50"}, {"code": "M54.2"}])
    form = definition(client, staff, referral_id)
    web = Page(open_form(client, link_token(world, referral_id)).text)
    web_controls = {
        (c["name"], c.get("value", "") if c.get("type") == "checkbox" else "") for c in web.controls
    }
    assert controls(form) == web_controls
    groups = [g["id"] for s in form["sections"] for g in s["groups"]]
    assert {"q-nprs", "q-odi", "q-ndi"} <= set(groups)
    assert "Clinic-A" in form["consent_text"] and form["consent_version"]


def test_the_answers_are_screened_and_completed_as_the_web_form_does(client, world):
    staff = world.key("clinic-a", "front_desk")
    referral_id = refer(client, staff, diagnoses=[{"code": "M54.50"}, {"code": "M54.2"}])
    body = {"referral_id": referral_id, "answers": answers()}
    answer = client.post("/intakes/form", json=body, headers=bearer(staff))
    assert answer.status_code == 201, answer.json
    intake = answer.json
    assert intake["completed_by"] == "staff"
    assert intake["screening"]["outcome"] == "needs_clearance"  # cancer under treatment
    assert intake["medications"] == ["Warfarin 5 mg daily", "Ibuprofen as needed"]
    patient = client.get(f"/patients/{intake['patient_id']}", headers=bearer(staff)).json
    assert patient["screening"]["outcome"] == "needs_clearance"  # lists show the precautions
    assert patient["screening"]["intake_id"] == intake["intake_id"]
    clinician = world.key("clinic-a", "therapist")
    cleared = client.post(
        f"/intakes/{intake['intake_id']}/clearances",
        json={"rule_ids": ["cancer-under-treatment"], "note": "ok", "cleared_by": "Dr A"},
        headers=bearer(clinician),
    )
    assert cleared.status_code == 200, cleared.json
    patient = client.get(f"/patients/{intake['patient_id']}", headers=bearer(staff)).json
    assert patient["screening"]["outcome"] == cleared.json["screening"]["outcome"]
    assert patient["screening"]["cleared"] == ["cancer-under-treatment"]
    again = client.post("/intakes/form", json=body, headers=bearer(staff))
    assert again.status_code == 409
    assert (
        client.get(f"/intakes/form?referral_id={referral_id}", headers=bearer(staff)).status_code
        == 409
    )


def test_each_error_names_its_field_and_nothing_is_stored(client, world):
    staff = world.key("clinic-a", "front_desk")
    referral_id = refer(client, staff, diagnoses=[{"code": "M54.50"}, {"code": "M54.2"}])
    wrong = answers(signed_by="", symptom_1_severity="11", bp_systolic="high", nprs_1=None)
    answer = client.post(
        "/intakes/form", json={"referral_id": referral_id, "answers": wrong}, headers=bearer(staff)
    )
    assert answer.status_code == 422, answer.json
    errors = answer.json["errors"]["json"]
    wanted = {"signed_by", "symptom_1_severity", "bp_systolic", "nprs_1"}
    assert {f"answers.{name}" for name in wanted} <= set(errors), errors
    assert errors["answers.signed_by"] == ["Type your full name to sign the form."]
    assert world.count(indexes.INTAKES, referral_id=referral_id) == 0


def test_answers_of_the_wrong_shape_are_refused(client, world):
    staff = world.key("clinic-a", "front_desk")
    referral_id = refer(client, staff)
    for bad in ({"nprs_1": 6}, {"nprs_1": ["x"] * 51}, {"x" * 101: "1"}):
        answer = client.post(
            "/intakes/form",
            json={"referral_id": referral_id, "answers": bad},
            headers=bearer(staff),
        )
        assert answer.status_code == 422, (bad, answer.json)
