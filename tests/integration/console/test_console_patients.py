"""Pages 4 and 5 against the real APIs: the patient search (by name prefix whatever the case
and accents, by date of birth, MRN or phone; a bad phone is an error next to its field, with
what was typed kept), and the chart (demographics, consent, the intake's screening with its
precautions standing out, plans, messages sent); hostile names shown as text; at most 4 API
calls a page."""

from __future__ import annotations

import html

import pytest

from testkit.staff_forms import clear_intake_form
from testkit.waiting import wait_until
from tests.integration.console.conftest import HOSTILE_FAMILY, HOSTILE_NAME


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


def test_hostile_names_are_text_on_the_search_and_the_chart(world, signed_in, patients):
    desk = signed_in("front_desk")
    for path in ("/patients?name=img", f"/patients/{patients['hostile']}"):
        body = page(desk.get(path))
        assert html.escape(HOSTILE_NAME) in body and HOSTILE_NAME not in body, path
        assert HOSTILE_FAMILY in body and "49" not in body.replace("1949", ""), path


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
    desk = signed_in("admin")
    calls: list[str] = []
    hook = lambda response, *a, **k: calls.append(response.request.path_url)  # noqa: E731
    app.extensions["deps"].http.hooks["response"].append(hook)
    try:
        for path in ["/patients", "/patients?name=a", f"/patients/{patients['plain']}"]:
            calls.clear()
            app.extensions["deps"].people.forget()  # count /auth/me too
            assert desk.get(path).status_code == 200
            assert len(calls) <= 4, (path, calls)
    finally:
        app.extensions["deps"].http.hooks["response"].remove(hook)
