"""Pages 8 and 9 in a real browser (Debian's Chromium) against the seven real processes, by the
keyboard: a front desk's morning (inbox -> referral -> the patient's chart -> calendar: two
sessions booked, one refused first as
a double booking with planning's reason in its slot, then booked at another time), the week
view, a session page; a therapist opens a session that has begun from the calendar, sees the
screening's precautions and records it with the pain scale. axe-core finds no WCAG 2.1 A/AA
violation on any page; screenshots at 390x844 and 1280x900 in test-artifacts/."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from testkit.console import Console
from testkit.referrals import distinct_referral
from testkit.staff_accounts import staffed_clinic
from testkit.treatment_plans import active_plan

CHICAGO = ZoneInfo("America/Chicago")  # Lakeside, where the clinic's therapist works


def test_a_front_desk_books_two_sessions_one_clash_shown_and_a_therapist_records_one(
    system, browser
):
    stack, _inbox = system
    clinic = staffed_clinic(stack.ops, stack.url("intake"), f"cal-{uuid.uuid4().hex[:6]}")
    desk_api = clinic.front_desk.signed_in.client(stack.urls, "front desk")
    therapist_api = clinic.therapist.signed_in.client(stack.urls, "therapist")
    lakeside = clinic.locations[-1]
    since = (datetime.now(UTC).date() - timedelta(days=2)).isoformat()
    plans = {}
    for n, given in ((1, "Avery"), (2, "Blake")):
        referral = {**distinct_referral(n, given_name=given, family_name="Morning"),
                    "location_id": lakeside, "valid_from": since}  # fmt: skip
        made = desk_api.post("intake", "/referrals", referral)
        plans[given] = active_plan(desk_api, therapist_api, made["referral_id"])
    sam = therapist_api.get("intake", "/auth/me")["user_id"]
    tomorrow = datetime.now(CHICAGO).date() + timedelta(days=1)

    console = Console(browser, stack.console_url)
    console.sign_in(clinic.tenant_id, clinic.front_desk.email, clinic.front_desk.password)
    page = console.page
    console.follow("Referrals")  # the morning starts at the inbox: referral -> patient -> book
    console.follow("Accepted")
    console.follow("Avery Morning")
    assert "Referral for Avery Morning" in page.inner_text("h1")
    with page.expect_navigation():
        page.locator("dl.facts").get_by_role("link", name="Avery Morning").press("Enter")
    assert "Avery Morning" in page.inner_text("h1")  # the chart
    console.follow("Calendar")
    page.get_by_label("Location").select_option(label="Lakeside")
    page.get_by_label("Day", exact=True).fill(tomorrow.isoformat())
    console.send("Show")
    assert "Calendar, Lakeside" in page.inner_text("h1")
    console.checked("calendar-day")

    def book(patient: str, at: str) -> None:
        page.get_by_label("Patient (active plan)").select_option(label=f"{patient} Morning")
        page.get_by_label("Therapist", exact=True).select_option(label="Sam Ortiz")
        page.get_by_label("Day of the session").fill(tomorrow.isoformat())
        page.get_by_label("Time at Lakeside").fill(at)
        page.get_by_label("Room (optional)").fill("2")
        console.send("Book the session")

    book("Avery", "10:00")
    day_words = f"{tomorrow:%a} {tomorrow.day} {tomorrow:%b}"
    assert f"Session booked for {day_words} 10:00 with Sam Ortiz for Avery Morning." in (
        console.flash()
    )
    book("Blake", "10:30")  # Sam and room 2 are taken until 11:00
    clash = page.locator("td.has-clash")
    assert clash.count() == 1 and "is already booked" in clash.inner_text()
    assert f"{day_words} 10:30 with Sam Ortiz" in clash.inner_text()
    assert "is already booked" in console.error_next_to("Time at Lakeside")
    assert page.get_by_label("Time at Lakeside").input_value() == "10:30"  # kept as typed
    console.checked("calendar-clash")
    page.get_by_label("Time at Lakeside").fill("11:30")
    console.send("Book the session")
    assert "11:30 with Sam Ortiz for Blake Morning" in console.flash()
    assert page.locator("a.slot").count() == 2
    assert desk_api.get("planning", f"/plans/{plans['Blake']['plan_id']}/sessions")["total"] == 1

    page.get_by_label("View").select_option("week")
    console.send("Show")
    assert page.locator("a.slot").count() == 2
    console.checked("calendar-week")
    console.follow("Avery Morning")
    assert "Session of Avery Morning" in page.inner_text("h1")
    assert page.get_by_role("heading", name="Record the session").count() == 0  # not the desk's
    console.checked("session-desk")
    console.send("Sign out")

    began = datetime.now(CHICAGO).replace(second=0, microsecond=0) - timedelta(hours=2)
    desk_api.post(
        "planning",
        f"/plans/{plans['Avery']['plan_id']}/sessions",
        {"therapist_id": sam, "starts_at_local": f"{began:%Y-%m-%dT%H:%M}"},
    )
    console.sign_in(clinic.tenant_id, clinic.therapist.email, clinic.therapist.password)
    console.follow("Calendar")
    page.get_by_label("Day", exact=True).fill(began.date().isoformat())
    console.send("Show")
    console.follow(f"{began:%H:%M}")
    assert page.locator(".precautions, .precautions-clear").first.is_visible()
    page.get_by_label("Subjective: what the patient reports").fill("less pain sitting")
    page.get_by_label("Score (0–10)").fill("12")
    console.send("Record the session")
    assert "0 to 10" in console.error_next_to("Score (0–10)")
    assert page.get_by_label("Subjective: what the patient reports").input_value() == (
        "less pain sitting"
    )
    console.checked("session-record-errors")
    page.get_by_label("Objective: what you found").fill("lumbar flexion improved")
    page.get_by_label("Assessment").fill("responding")
    page.get_by_label("Plan for the next sessions").fill("continue")
    page.locator("input[name=techniques]").first.press("Space")
    page.get_by_label("Pressure").select_option("moderate")
    page.get_by_label("Score (0–10)").fill("4")
    console.send("Record the session")
    assert "recorded; NPRS 4." in console.flash()
    assert "lumbar flexion improved" in page.inner_text("main")
    console.checked("session-recorded")
    console.close()
