"""Pages 4, 5 and 6 against the real APIs: the patient search (by name prefix whatever the case
and accents, by date of birth, MRN or phone; a bad phone is an error next to its field, with
what was typed kept), the chart (demographics, consent, the intake's screening with its
precautions standing out, plans, messages sent), and the intake (recorded on the patient's own
form with errors next to their fields and what was typed kept; reviewed; a physician's
clearance recorded by a clinician only); hostile names shown as text; at most 4 API calls a
page."""

from __future__ import annotations

import html
import re

import pytest

from testkit.referrals import native_referral
from testkit.staff_forms import clear_intake_form
from testkit.waiting import wait_until
from tests.integration.console.conftest import (
    HOSTILE_FAMILY,
    HOSTILE_NAME,
    MOST_API_CALLS,
    calls_at_worst,
)


def page(answer) -> str:
    return answer.get_data(as_text=True)


@pytest.fixture(scope="module")
def patients(world) -> dict[str, str]:
    """what -> patient id; the plain referral's patient has an intake that asks to modify
    treatment (a blood thinner), and planning has made its plan."""
    desk = world.api("front_desk")
    found = {
        what: desk.get("intake", f"/referrals/{referral_id}")["patient_id"]
        for what, referral_id in world.referrals.items()
        if what != "held"
    }
    form = clear_intake_form(world.referrals["plain"])
    form["history"]["conditions"] = ["anticoagulants"]
    form["medications"] = ["Warfarin 5 mg daily"]
    desk.post("intake", "/intakes", form)
    newcomer = native_referral(location_id="main")
    newcomer["patient"] = {**newcomer["patient"], "given_name": "Zoë", "family_name": "Lindqvist",
                           "identifiers": [{"system": "urn:t", "value": "ZL-1"}], "email": None}  # fmt: skip
    made = desk.post("intake", "/referrals", newcomer)
    found["newcomer"], found["newcomer_referral"] = made["patient_id"], made["referral_id"]
    wait_until(
        lambda: desk.get("planning", f"/patients/{found['plain']}/plans")["items"],
        timeout=60,
        message="planning drafts the plan",
    )
    return found


def test_a_name_prefix_finds_the_patient_whatever_the_case_and_accents(world, signed_in, patients):
    desk = signed_in("front_desk")
    for typed in ("alv", "ÁLV mar", "Maria Alvarez"):
        answer = desk.get("/patients", query_string={"name": typed})
        assert answer.status_code == 200
        body = page(answer)
        assert f'/patients/{patients["plain"]}"' in body and "Maria Elena Alvarez" in body, typed
        assert f'value="{html.escape(typed)}"' in body  # what was typed stays in the field
    assert "No patient matches" in page(desk.get("/patients", query_string={"name": "zzq"}))
    row = page(desk.get("/patients", query_string={"name": "maria alv"}))
    assert 'class="precautions-tag precautions-modify"' in row  # the screening, on the row


def test_date_of_birth_mrn_and_phone_each_find_the_patient(world, signed_in, patients):
    desk = signed_in("front_desk")
    for query in ({"birth_date": "1978-04-12", "name": "alv"}, {"identifier": "mrn-558201"},
                  {"phone": "617 555 0134", "name": "maria"}):  # fmt: skip
        body = page(desk.get("/patients", query_string=query))
        assert f'/patients/{patients["plain"]}"' in body, query


def test_a_bad_phone_is_shown_next_to_its_field_with_what_was_typed(world, signed_in):
    desk = signed_in("front_desk")
    answer = desk.get("/patients", query_string={"phone": "12", "name": "alv"})
    assert answer.status_code == 422
    body = page(answer)
    assert 'id="f-phone-error"' in body and 'aria-invalid="true"' in body
    assert 'value="12"' in body and 'value="alv"' in body


def test_hostile_names_are_text_on_the_search_the_chart_and_the_intake_form(
    world, signed_in, patients
):
    desk = signed_in("front_desk")
    hostile_intake = f"/referrals/{world.referrals['hostile']}/intake"  # the intake form
    for path in ("/patients?name=img", f"/patients/{patients['hostile']}", hostile_intake):
        body = page(desk.get(path))
        assert html.escape(HOSTILE_NAME) in body and HOSTILE_NAME not in body, path
        assert f"{html.escape(HOSTILE_NAME)} {HOSTILE_FAMILY}" in body, path  # not evaluated


def test_the_chart_shows_the_record_consent_screening_plan_and_messages(world, signed_in, patients):
    admin = signed_in("admin")  # a clinician who may see the main location
    answer = admin.get(f"/patients/{patients['plain']}")
    assert answer.status_code == 200
    body = page(answer)
    assert "Maria Elena Alvarez" in body and "Born</dt><dd>Wed 12 Apr 1978" in body
    assert "MRN-558201" in body and "Email OK</dt><dd>Yes" in body
    assert 'class="precautions precautions-modify"' in body and "Modify treatment" in body
    assert "Anticoagulant" in body or "anticoagulant" in body
    assert "Plan: " in body and "Messages sent" in body
    assert body.index("precautions-modify") < body.index('id="h-details"')  # first thing seen


def test_the_chart_of_a_patient_without_an_intake_says_so(world, signed_in, patients):
    body = page(signed_in("front_desk").get(f"/patients/{patients['hostile']}"))
    assert "No intake yet: not screened" in body and "No plan yet" in body


def test_a_patient_the_person_may_not_see_is_not_found(world, signed_in):
    answer = signed_in("front_desk").get("/patients/pat_00000000000000000000")
    assert answer.status_code == 404


def test_search_and_chart_make_at_most_four_api_calls(world, app, signed_in, patients):
    for who in ("admin", "front_desk"):  # the therapist sees Lakeside only, not this patient
        person = signed_in(who)
        for path in ["/patients", "/patients?name=a", f"/patients/{patients['plain']}"]:
            calls = calls_at_worst(app, person, path)
            assert len(calls) <= MOST_API_CALLS, (who, path, calls)


def intake_answers(**changes) -> dict:
    answers = {
        "symptom_1_description": "Low back pain when sitting",
        "symptom_1_severity": "6",
        "body_areas": ["Lower back"],
        "nprs_1": "6",
        **{f"odi_{n}": "2" for n in range(1, 11)},  # low back pain: the Oswestry index
        **{f"ndi_{n}": "1" for n in range(1, 11)},  # and neck pain: the neck disability index
        "conditions": ["cancer_under_treatment", "anticoagulants"],
        "medications": "Warfarin 5 mg daily",
        "contact_email": "yes",
        "consent_agreed": "yes",
        "signed_by": "Zoë Lindqvist",
    }
    answers.update(changes)
    return {k: v for k, v in answers.items() if v is not None}


def test_an_intake_is_recorded_on_the_patients_form_errors_next_to_their_fields(
    world, signed_in, patients
):
    desk = signed_in("front_desk")
    chart = page(desk.get(f"/patients/{patients['newcomer']}"))
    form_path = f"/referrals/{patients['newcomer_referral']}/intake"
    assert f'href="{form_path}"' in chart and "No intake yet" in chart
    form = page(desk.get(form_path))
    assert 'name="nprs_1"' in form and 'value="cancer_under_treatment"' in form
    assert 'id="q-odi"' in form  # low back pain asks the Oswestry index, as the web form does
    wrong = desk.post(form_path, intake_answers(signed_by="", symptom_1_severity="11"))
    assert wrong.status_code == 422
    body = page(wrong)
    assert 'id="f-signed_by-error"' in body and 'id="f-symptom_1_severity-error"' in body
    assert 'value="11"' in body and 'value="Warfarin 5 mg daily"' not in body  # a textarea
    assert ">Warfarin 5 mg daily</textarea>" in body
    assert re.search(r'value="cancer_under_treatment" checked', body)  # ticks are kept
    done = desk.post(form_path, intake_answers())
    assert done.status_code == 302, re.findall(r'class="field-error"[^>]*>([^<]*)', page(done))
    assert "/intakes/" in done.headers["Location"]
    review = page(desk.get(done.headers["Location"]))
    assert (
        "Intake recorded for Zoë Lindqvist; screening: needs a physician&#39;s clearance" in review
    )
    assert 'class="precautions precautions-needs_clearance"' in review
    assert "Warfarin 5 mg daily" in review and "Completed by staff" in review
    assert "Record a physician" not in review  # the front desk may not record a clearance
    again = desk.post(form_path, intake_answers())
    assert again.status_code == 409 and "intake is complete" in page(again)  # said in words


def test_a_clinician_records_a_clearance_and_the_front_desk_may_not(world, signed_in, patients):
    desk = signed_in("front_desk")
    intake_id = next(
        i["intake_id"]
        for i in world.api("front_desk").get(
            "intake", f"/intakes?patient_id={patients['newcomer']}"
        )["items"]
    )
    path = f"/intakes/{intake_id}/clearances"
    desk.get(f"/intakes/{intake_id}")
    assert (
        desk.post(
            path, {"rule_ids": ["cancer-under-treatment"], "note": "x", "cleared_by": "Dr A"}
        ).status_code
        == 403
    )
    admin = signed_in("admin")
    review = page(admin.get(f"/intakes/{intake_id}"))
    assert "Record a physician" in review and 'value="cancer-under-treatment"' in review
    wrong = admin.post(path, {"rule_ids": ["cancer-under-treatment"], "note": "Oncologist agrees."})
    assert wrong.status_code == 422 and 'id="f-cleared_by-error"' in page(wrong)
    assert "Oncologist agrees." in page(wrong)  # what was typed stays
    done = admin.post(path, {"rule_ids": ["cancer-under-treatment"], "note": "Oncologist agrees.",
                             "cleared_by": "Dr Ana Ruiz"})  # fmt: skip
    assert done.status_code == 302
    after = page(admin.get(done.headers["Location"]))
    assert (
        "Clearance by Dr Ana Ruiz recorded for Zoë Lindqvist; screening now: modify treatment"
        in after
    )
    assert 'class="precautions precautions-modify"' in after
    chart = page(admin.get(f"/patients/{patients['newcomer']}"))
    assert "cancer-under-treatment cleared by Dr Ana Ruiz" in chart
