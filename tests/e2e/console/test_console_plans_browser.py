"""A therapist's plan in a real browser (Debian's Chromium) against the seven real processes:
the plans list, the drafted plan edited (an error next to its field, what was typed kept), a
stale edit told as "changed by X at T" with the current version, approval, the outcome chart
with the new point after a session, and discharge with the referrer's report previewed. Every
page is checked with axe-core (WCAG 2.1 A and AA) and screenshotted at 390x844 and 1280x900
into test-artifacts/. Keyboard only; a hostile name runs nothing."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from testkit.console import Console
from testkit.referrals import native_referral
from testkit.staff_accounts import staffed_clinic
from testkit.staff_forms import clear_intake_form, session_notes
from testkit.waiting import wait_until

HOSTILE = "<img src=x onerror=alert(1)>"


def test_a_therapist_edits_approves_follows_the_outcomes_and_discharges_a_plan(system, browser):
    stack, _inbox = system
    clinic = staffed_clinic(stack.ops, stack.url("intake"), f"plans-{uuid.uuid4().hex[:6]}")
    lakeside = clinic.locations[-1]  # the therapist's location
    desk = clinic.front_desk.signed_in.client(stack.urls, "front desk")
    admin = clinic.admin.signed_in.client(stack.urls, "admin")
    patient = {**native_referral()["patient"], "given_name": HOSTILE, "family_name": "{{7*7}}"}
    referral = desk.post(
        "intake", "/referrals", native_referral(location_id=lakeside, patient=patient)
    )
    desk.post("intake", "/intakes", clear_intake_form(referral["referral_id"]), expect=201)
    draft = wait_until(
        lambda: (
            (found := desk.get("planning", f"/plans?referral_id={referral['referral_id']}"))
            and found["items"]
            and found["items"][0]["status"] == "draft"
            and found["items"][0]
        ),
        timeout=90,
        message="the drafted plan",
    )
    plan_id, name = draft["plan_id"], f"{HOSTILE} {{{{7*7}}}}"
    console = Console(browser, stack.console_url)
    console.sign_in(clinic.tenant_id, clinic.therapist.email, clinic.therapist.password)

    console.follow("Plans")
    assert console.page.get_by_role("link", name=name).count() == 1
    console.checked("plans")
    console.follow(name)
    assert console.page.get_by_role("heading", name=f"Plan for {name}").is_visible()
    console.checked("plan")

    console.page.get_by_label("Sessions a week").fill("often")
    console.page.get_by_label("Notes").fill("Heat first.")
    console.send("Save the plan")
    assert "integer" in console.error_next_to("Sessions a week").lower()
    assert console.page.get_by_label("Sessions a week").input_value() == "often"  # kept
    assert console.page.get_by_label("Notes").input_value() == "Heat first."
    console.checked("plan-error")
    console.page.get_by_label("Sessions a week").fill("2")
    console.send("Save the plan")
    assert "saved as version 2" in console.flash()

    # Meanwhile the admin changes the plan: the therapist's next save is refused, in words.
    current = admin.get("planning", f"/plans/{plan_id}")
    admin.call("PATCH", "planning", f"/plans/{plan_id}",
               json={"version": current["version"], "notes": "Admin: check the hip first."})  # fmt: skip
    console.page.get_by_label("Notes").fill("My own notes.")
    console.send("Save the plan")
    alert = console.page.get_by_role("alert").inner_text()
    assert "changed by Dana Admin at " in alert and "Here is the current version" in alert
    assert console.page.get_by_label("Notes").input_value() == "Admin: check the hip first."
    assert "My own notes." in console.page.inner_text("main")  # what was typed, to copy back
    console.checked("plan-conflict")

    console.send("Approve version 3")
    assert "approved: it is active" in console.flash()
    console.checked("plan-active")

    local = datetime.now(ZoneInfo("America/Chicago")) - timedelta(minutes=2)  # just begun
    therapist = clinic.therapist.signed_in.client(stack.urls, "therapist")
    session = therapist.post(
        "planning",
        f"/plans/{plan_id}/sessions",
        {"therapist_id": "th-sam", "starts_at_local": local.strftime("%Y-%m-%dT%H:%M")},
        expect=201,
    )
    therapist.post(
        "planning",
        f"/plans/{plan_id}/sessions/{session['session_id']}/complete",
        session_notes([{"measure": "NPRS", "score": 4}]),
    )

    console.follow("Outcomes over time")
    chart = console.page.get_by_role("img", name="Numeric Pain Rating Scale (NPRS) over time")
    assert chart.is_visible()
    assert console.page.locator("svg.chart circle[fill='#1d6b32']").count() >= 2  # point, legend
    table = console.page.get_by_role("table", name="NPRS scores, as a table").inner_text()
    assert "(baseline)" in table and "yes" in table
    console.checked("outcomes")
    image = console.page.request.get(f"{stack.console_url}/plans/{plan_id}/outcomes/NPRS.svg")
    assert image.status == 200 and image.headers["content-type"].startswith("image/svg+xml")

    console.follow(f"Plan for {name}")
    console.follow("Discharge: complete or discontinue")
    letter = console.page.locator(".letter").inner_text()
    assert "Discharge report for your referral" in letter and "after 1 session." in letter
    console.checked("discharge")
    console.send("Discontinue the plan")
    assert console.error_next_to("Why care is discontinued")
    console.checked("discharge-error")
    console.page.get_by_label("Reason for discharge").fill("Goals met early.")
    console.send("Complete the plan")
    assert "completed; the referrer is sent the discharge report" in console.flash()
    console.checked("plan-completed")
    assert admin.get("planning", f"/plans/{plan_id}")["status"] == "completed"
    console.close()
