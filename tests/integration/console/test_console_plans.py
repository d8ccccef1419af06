"""Pages 7, 10 and 11 against the real APIs: the plans list, a drafted plan edited (field
errors next to their fields, what was typed kept) and approved, a stale edit shown as "changed by
X at T" with the current version, the outcome chart as SVG (in the page and as an image) with a
table of the same scores, and discharge with the report the referrer will receive. Each page
makes at most 4 API calls; a front desk is not offered a clinician's actions."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from services.console.web.security_headers import CONTENT_SECURITY_POLICY
from testkit.staff_forms import clear_intake_form, session_notes
from testkit.waiting import wait_until
from tests.integration.console.conftest import (
    HOSTILE_FAMILY,
    HOSTILE_NAME,
    MOST_API_CALLS,
    calls_at_worst,
)

SVG = "{http://www.w3.org/2000/svg}"


def page(answer) -> str:
    return answer.get_data(as_text=True)


@pytest.fixture(scope="module")
def drafts(world) -> dict[str, dict]:
    """The plans drafted for the accepted referrals, once their intakes are recorded."""
    desk = world.api("front_desk")
    made = {}
    for what in ("plain", "hostile"):
        referral_id = world.referrals[what]
        desk.post("intake", "/intakes", clear_intake_form(referral_id), expect=201)
        made[what] = wait_until(
            lambda rid=referral_id: (
                (found := world.api("admin").get("planning", f"/plans?referral_id={rid}")["items"])
                and found[0]["status"] == "draft"
                and found[0]
            ),
            timeout=60,
            message=f"the {what} referral's drafted plan",
        )
    return made


def edit_form(plan: dict, **changes: str) -> dict[str, str]:
    content = plan["content"]
    form = {
        "version": str(plan["version"]),
        "techniques": "\n".join(t["code"] for t in content["techniques"]),
        "precautions": "\n".join(content.get("precautions", [])),
        "treatment_areas": "\n".join(content.get("treatment_areas", [])),
        "frequency_per_week": str(content["frequency_per_week"]),
        "session_minutes": str(content["session_minutes"]),
        "planned_sessions": str(content["planned_sessions"]),
        "start_on": content["start_on"],
        "end_on": content["end_on"],
        "notes": content.get("notes", ""),
    }
    for goal in content.get("goals", []):
        form[f"goal-{goal['measure']}-target"] = f"{goal['target']:g}"
        form[f"goal-{goal['measure']}-due_on"] = goal["due_on"]
    return {**form, **changes}


def test_the_plans_list_shows_drafts_to_approve_with_names_as_text(world, drafts, signed_in):
    body = page(signed_in("admin").get("/plans"))
    assert "To approve" in body and 'aria-current="page">To approve' in body
    assert f"/plans/{drafts['plain']['plan_id']}" in body
    assert html.escape(HOSTILE_NAME, quote=False) in body and HOSTILE_NAME not in body
    assert HOSTILE_FAMILY in body and " 49<" not in body
    therapist = page(signed_in("therapist").get("/plans"))  # lakeside only
    assert f"/plans/{drafts['hostile']['plan_id']}" in therapist
    assert f"/plans/{drafts['plain']['plan_id']}" not in therapist
    assert "0 plans" in page(signed_in("admin").get("/plans?tab=completed"))


def test_a_bad_edit_keeps_what_was_typed_and_says_what_is_wrong_next_to_the_field(
    world, drafts, signed_in
):
    admin = signed_in("admin")
    plan = drafts["plain"]
    admin.get(f"/plans/{plan['plan_id']}")
    form = edit_form(plan, frequency_per_week="often", notes="typed notes stay")
    answer = admin.post(f"/plans/{plan['plan_id']}", form)
    body = page(answer)
    assert answer.status_code == 422, body[-1500:]
    error = re.search(r'id="f-frequency_per_week-error">([^<]+)<', body)
    assert error and "integer" in error[1].lower()
    assert 'aria-describedby="f-frequency_per_week-error"' in body
    assert 'value="often"' in body and "typed notes stay" in body
    goal = edit_form(plan, **{"goal-NPRS-target": "6.5"})
    body = page(admin.post(f"/plans/{plan['plan_id']}", goal))
    assert re.search(r'id="f-goal-NPRS-target-error">[^<]*NPRS: target 6.5', body), body[-3000:]
    current = world.api("admin").get("planning", f"/plans/{plan['plan_id']}")
    assert current["version"] == plan["version"]  # nothing was changed


def test_an_edit_is_saved_and_a_stale_one_names_who_changed_it_and_when(world, drafts, signed_in):
    plan = drafts["hostile"]  # at lakeside: the therapist's location
    therapist, admin = signed_in("therapist"), signed_in("admin")
    therapist.get(f"/plans/{plan['plan_id']}")
    admin.get(f"/plans/{plan['plan_id']}")
    saved = admin.post(f"/plans/{plan['plan_id']}", edit_form(plan, notes="admin's change"))
    assert saved.status_code == 302
    confirmed = page(admin.get(saved.headers["Location"]))
    assert f"saved as version {plan['version'] + 1}" in confirmed

    stale = therapist.post(
        f"/plans/{plan['plan_id']}", edit_form(plan, notes="the therapist's own words")
    )
    body = page(stale)
    assert stale.status_code == 409, body[-1500:]
    admin_name = world.clinic.admin.name
    assert f"changed by {html.escape(admin_name)} at " in body and " CST" in body
    assert "Here is the current version" in body and "admin&#39;s change</textarea>" in body
    assert html.escape(HOSTILE_NAME, quote=False) in body and HOSTILE_NAME not in body
    assert "What you typed (not saved)" in body and "the therapist&#39;s own words" in body
    current = world.api("admin").get("planning", f"/plans/{plan['plan_id']}")
    assert current["content"]["notes"] == "admin's change"


def test_a_front_desk_sees_the_plan_but_is_not_offered_a_clinicians_actions(
    world, drafts, signed_in
):
    desk = signed_in("front_desk")
    plan = drafts["plain"]
    body = page(desk.get(f"/plans/{plan['plan_id']}"))
    assert "Plan for" in body and "Approve version" not in body and "Save the plan" not in body
    assert "Outcomes over time" not in body and "Discharge" not in body
    version = {"version": str(plan["version"])}
    assert desk.post(f"/plans/{plan['plan_id']}/approve", version).status_code == 403
    assert desk.get(f"/plans/{plan['plan_id']}/outcomes").status_code == 403
    assert desk.post(f"/plans/{plan['plan_id']}/complete", version).status_code == 403


def test_a_therapist_approves_records_a_session_and_the_chart_shows_the_point(
    world, drafts, signed_in
):
    therapist = signed_in("therapist")
    plan_id = drafts["hostile"]["plan_id"]
    current = world.api("therapist").get("planning", f"/plans/{plan_id}")
    therapist.get(f"/plans/{plan_id}")
    approved = therapist.post(f"/plans/{plan_id}/approve", {"version": str(current["version"])})
    assert approved.status_code == 302
    assert "approved: it is active" in page(therapist.get(approved.headers["Location"]))

    api = world.api("therapist")
    local = datetime.now(ZoneInfo("America/Chicago")) - timedelta(minutes=2)  # just begun
    session = api.post(
        "planning",
        f"/plans/{plan_id}/sessions",
        {"therapist_id": "th-sam", "starts_at_local": local.strftime("%Y-%m-%dT%H:%M")},
        expect=201,
    )
    api.post(
        "planning",
        f"/plans/{plan_id}/sessions/{session['session_id']}/complete",
        session_notes([{"measure": "NPRS", "score": 4}]),
    )

    body = page(therapist.get(f"/plans/{plan_id}/outcomes"))
    assert '<svg viewBox="0 0 640 320"' in body and 'role="img"' in body
    assert '<title id="chart-NPRS-title">Numeric Pain Rating Scale (NPRS) over time</title>' in body
    assert "latest 4 on" in body and "clinically improved at 5 or below" in body
    assert "Clinically improved" in body and "<caption>NPRS scores, as a table</caption>" in body
    assert body.count("<circle") >= 1 and "(baseline)" in body
    assert html.escape(HOSTILE_NAME, quote=False) in body and HOSTILE_NAME not in body
    assert HOSTILE_FAMILY in body and " 49<" not in body

    image = therapist.get(f"/plans/{plan_id}/outcomes/NPRS.svg")
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(image.get_data())
    assert root.tag == f"{SVG}svg" and root.find(f"{SVG}title") is not None
    assert len(root.findall(f".//{SVG}circle")) >= 2  # the point, and the legend's
    assert therapist.get(f"/plans/{plan_id}/outcomes/ODI.svg").status_code == 404


def test_discharge_previews_the_report_refuses_a_bare_discontinuation_and_completes(
    world, drafts, signed_in
):
    therapist = signed_in("therapist")
    plan_id = drafts["hostile"]["plan_id"]
    wait_until(
        lambda: world.api("therapist").get("planning", f"/plans/{plan_id}")["status"] == "active",
        message="the approved plan",
    )
    body = page(therapist.get(f"/plans/{plan_id}/discharge"))
    assert "What the referrer will receive" in body and "Discharge report for your referral" in body
    assert "after 1 session." in body and "Reason for discharge: treatment completed" in body
    assert re.search(
        r"<th scope=\"row\" data-label=\"Measure\">NPRS</th><td[^>]*>7</td><td[^>]*>4</td><td[^>]*>\+3</td><td[^>]*>yes</td>",
        body,
    )
    assert html.escape(HOSTILE_NAME, quote=False) in body and HOSTILE_NAME not in body

    current = world.api("therapist").get("planning", f"/plans/{plan_id}")
    refused = therapist.post(
        f"/plans/{plan_id}/discontinue", {"version": str(current["version"]), "reason": ""}
    )
    assert refused.status_code == 422
    assert 'id="f-discontinue-reason-error"' in page(refused)

    done = therapist.post(
        f"/plans/{plan_id}/complete",
        {"version": str(current["version"]), "reason": "goals met"},
    )
    assert done.status_code == 302
    shown = page(therapist.get(done.headers["Location"]))
    assert "completed; the referrer is sent the discharge report" in shown
    closed = world.api("therapist").get("planning", f"/plans/{plan_id}")
    assert closed["status"] == "completed" and closed["closed"]["reason"] == "goals met"


def test_each_plan_page_makes_at_most_four_api_calls_under_the_strict_policy(
    world, app, drafts, signed_in
):
    admin = signed_in("admin")
    plan_id = drafts["plain"]["plan_id"]
    for path in ["/plans", "/plans?tab=active", f"/plans/{plan_id}",
                 f"/plans/{plan_id}/outcomes", f"/plans/{plan_id}/outcomes/NPRS.svg",
                 f"/plans/{plan_id}/discharge"]:  # fmt: skip
        calls = calls_at_worst(app, admin, path)
        assert len(calls) <= MOST_API_CALLS, (path, calls)
        answer = admin.get(path)
        assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
        assert "<script>" not in page(answer) and " style=" not in page(answer), path
