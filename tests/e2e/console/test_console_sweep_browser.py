"""Every console page in a real browser (Debian's Chromium) against the seven real processes,
on one stack for the module: each page the navigation offers a role, and each page linked from
them (referral, chart, intake, plan, outcomes, discharge, session, the settings' subpages), as the role
that uses it. On each: axe-core finds no WCAG 2.1 A/AA violation at 390x844 nor at 1280x900,
screenshots of both in test-artifacts/, every form field has a label, the page's main action
is reached by Tab and pressed with Enter, and the hostile names and notes of the patient and of
a staff member open no dialog and raise no script error. Then the therapist's session journey:
the chart of a patient whose screening has precautions shows them, the session is recorded
from the calendar by the keyboard (SOAP notes, techniques, areas, pressure, the NPRS score) and
the outcome chart shows the new point."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator

from testkit.console import Console
from testkit.referrals import distinct_referral, native_referral
from testkit.stack import LocalStack
from testkit.staff import StaffClient
from testkit.staff_accounts import StaffedClinic, staffed_clinic
from testkit.staff_forms import clear_intake_form
from testkit.waiting import wait_until

LAKESIDE_ZONE = ZoneInfo("America/Chicago")  # the therapist's location
IMG = "<img src=x onerror=alert(1)>"
TEMPLATE = "{{7*7}}"
NOTE = '<script>alert(1)</script> {{7*7}} "><svg onload=alert(1)>'
NAME = f"{IMG} {TEMPLATE}"
MAX_TABS = 250  # the intake form takes 112 presses to its button

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && !el.closest('[hidden]'))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id || el.outerHTML.slice(0, 80))"""


@dataclass
class Clinic:
    stack: LocalStack
    staff: StaffedClinic
    lakeside: str
    referral_id: str  # the hostile patient's referral, its notes hostile too
    plan_id: str  # the hostile patient's active plan (precautions: warfarin)
    patient_id: str
    intake_id: str  # the hostile patient's intake, its history notes hostile
    began: datetime  # the session of that plan that has begun, to record
    upcoming: dict[str, Any]  # a session of that plan tomorrow
    held_referral: str
    to_intake: str  # an accepted referral without an intake
    other_plan: str  # a plain patient's active plan, to discharge
    staff_id: str  # the staff member with a hostile name


def _plan_of(
    desk: StaffClient, clinician: StaffClient, referral_id: str, form: dict
) -> tuple[str, str]:
    """The approved plan drafted on the intake recorded with `form`, and the intake."""
    intake_id = desk.post("intake", "/intakes", form, expect=201)["intake_id"]
    draft = wait_until(
        lambda: (
            (found := desk.get("planning", f"/plans?referral_id={referral_id}")["items"])
            and found[0]["status"] == "draft"
            and found[0]
        ),
        timeout=90,
        message="the drafted plan",
    )
    clinician.post("planning", f"/plans/{draft['plan_id']}/approve", {"version": draft["version"]})
    return str(draft["plan_id"]), str(intake_id)


@pytest.fixture(scope="module")
def clinic(system) -> Clinic:
    stack, _inbox = system
    return _staffed(stack)


def _staffed(stack: LocalStack) -> Clinic:
    staff = staffed_clinic(stack.ops, stack.url("intake"), f"sweep-{uuid.uuid4().hex[:6]}")
    desk = staff.front_desk.signed_in.client(stack.urls, "front desk")
    therapist = staff.therapist.signed_in.client(stack.urls, "therapist")
    admin = staff.admin.signed_in.client(stack.urls, "admin")
    lakeside = staff.locations[-1]
    since = (datetime.now(LAKESIDE_ZONE).date() - timedelta(days=2)).isoformat()
    hostile = {**distinct_referral(1, given_name=IMG, family_name=TEMPLATE),
               "location_id": lakeside, "valid_from": since, "notes": [NOTE]}  # fmt: skip
    referral_id = desk.post("intake", "/referrals", hostile)["referral_id"]
    form = clear_intake_form(referral_id)
    form["history"]["notes"] = NOTE
    form["medications"] = ["warfarin"]  # precautions: modify treatment
    plan_id, intake_id = _plan_of(desk, therapist, referral_id, form)
    plain = {**distinct_referral(2, given_name="Robin", family_name="Sweep"),
             "location_id": lakeside, "valid_from": since}  # fmt: skip
    plain_id = desk.post("intake", "/referrals", plain)["referral_id"]
    other_plan, _ = _plan_of(desk, therapist, plain_id, clear_intake_form(plain_id))
    fresh = {**distinct_referral(3, given_name="Sky", family_name="Sweep"), "location_id": lakeside}
    to_intake = desk.post("intake", "/referrals", fresh)["referral_id"]  # no intake yet
    held = desk.post(
        "intake", "/referrals", native_referral(location_id="main", authorized_visits=None)
    )
    sam = therapist.get("intake", "/auth/me")["user_id"]
    began = datetime.now(LAKESIDE_ZONE).replace(second=0, microsecond=0) - timedelta(hours=2)
    sessions = f"/plans/{plan_id}/sessions"
    desk.post("planning", sessions, {"therapist_id": sam,
                                     "starts_at_local": f"{began:%Y-%m-%dT%H:%M}"})  # fmt: skip
    tomorrow = began + timedelta(days=1)
    upcoming = desk.post("planning", sessions, {"therapist_id": sam,
                                                "starts_at_local": f"{tomorrow:%Y-%m-%dT%H:%M}"})  # fmt: skip
    user = admin.post(
        "intake",
        "/admin/users",
        {"name": f'"><svg onload=alert(1)> {TEMPLATE}', "role": "therapist",
         "email": f"svg@{staff.tenant_id}.example", "locations": [lakeside]},
    )  # fmt: skip
    return Clinic(
        stack=stack,
        staff=staff,
        lakeside=lakeside,
        referral_id=referral_id,
        plan_id=plan_id,
        patient_id=desk.get("intake", f"/referrals/{referral_id}")["patient_id"],
        intake_id=intake_id,
        began=began,
        upcoming=upcoming,
        held_referral=held["referral_id"],
        to_intake=to_intake,
        other_plan=other_plan,
        staff_id=user["user_id"],
    )


def signed_in(browser, clinic: Clinic, who: str) -> Console:
    member = getattr(clinic.staff, who)
    console = Console(browser, clinic.stack.console_url)
    code = member.recovery_codes.pop() if member.recovery_codes else None
    console.sign_in(clinic.staff.tenant_id, member.email, member.password, recovery_code=code)
    return console


def tab_to(console: Console, target: Locator) -> int:
    """Tab from the top of the page until `target` has the focus; how many presses it took."""
    page = console.page
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    page.locator("body").focus()
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return presses
    raise AssertionError(f"{target} is not reached by Tab from the top of {page.url}")


def swept(console: Console, name: str, path: str, main: tuple[str, str]) -> dict[str, Any]:
    """Open the page, check it at both sizes and by the keyboard, press its main action."""
    page = console.open(path)
    assert page.locator("h1").count() == 1, (name, page.url)
    console.checked(f"sweep-{name}")
    assert page.evaluate(UNLABELLED) == [], name
    role, label = main
    target = page.get_by_role(role, name=label, exact=True).first  # type: ignore[arg-type]
    presses = tab_to(console, target)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert console.script_errors == [] and console.dialogs == [], name
    return {"page": name, "tabs": presses}


def test_every_page_at_both_sizes_is_accessible_labelled_and_keyboard_usable(clinic, browser):
    """Each role's pages with their main action; the hostile names run nothing anywhere."""
    day = clinic.began.date().isoformat()
    session = f"/calendar/plans/{clinic.plan_id}/sessions/{clinic.upcoming['session_id']}"
    pages = {
        "front_desk": [
            ("inbox", "/referrals", ("button", "Show")),
            ("referral", f"/referrals/{clinic.referral_id}", ("link", "Referrals")),
            ("referral-held", f"/referrals/{clinic.held_referral}", ("button", "Save the review")),
            ("patients", "/patients", ("button", "Find")),
            ("chart", f"/patients/{clinic.patient_id}", ("link", "Patients")),
            ("intake-form", f"/referrals/{clinic.to_intake}/intake",
             ("button", "Save the intake and screen it")),
            ("calendar-day", f"/calendar?location={clinic.lakeside}&date={day}",
             ("button", "Book the session")),
            ("calendar-week", f"/calendar?location={clinic.lakeside}&date={day}&view=week",
             ("button", "Show")),
            ("session-upcoming", session, ("button", "Move the session")),
            ("plans-desk", "/plans?tab=active", ("link", NAME)),
            ("messages", "/messages", ("button", "Show")),
        ],
        "therapist": [
            ("plans", "/plans?tab=active", ("link", NAME)),
            ("plan", f"/plans/{clinic.plan_id}", ("link", "Outcomes over time")),
            ("outcomes", f"/plans/{clinic.plan_id}/outcomes",
             ("link", "The chart as an image (SVG)")),
            ("discharge", f"/plans/{clinic.other_plan}/discharge",
             ("button", "Complete the plan")),
            ("intake-review", f"/intakes/{clinic.intake_id}", ("link", "The referral")),
            ("chart-therapist", f"/patients/{clinic.patient_id}", ("link", "Patients")),
        ],
        "admin": [
            ("settings-staff", "/settings/staff", ("button", "Send the invitation")),
            ("settings-user", f"/settings/staff/{clinic.staff_id}",
             ("button", "Save role and locations")),
            ("settings-locations", "/settings/locations", ("button", "Add the location")),
            ("settings-sign-in", "/settings/sign-in", ("button", "Save the sign-in policy")),
            ("settings-notifications", "/settings/notifications",
             ("button", "Save the notification settings")),
            ("settings-templates", "/settings/templates", ("button", "Open")),
            ("settings-template", "/settings/templates/en/patient_welcome.sms",
             ("button", "Preview with sample data")),
        ],
    }  # fmt: skip
    report = []
    for who, visits in pages.items():
        console = signed_in(browser, clinic, who)
        for name, path, main in visits:
            report.append(swept(console, name, path, main))
        console.close()
    print("swept:", report)
    assert len(report) == sum(len(v) for v in pages.values())


def test_a_therapist_sees_the_precautions_records_a_session_and_the_chart_has_the_point(
    clinic, browser
):
    console = signed_in(browser, clinic, "therapist")
    page = console.page
    console.follow("Patients")
    page.get_by_label("Name", exact=False).first.fill("img")
    console.send("Find")
    console.follow(NAME)
    precautions = page.get_by_role("note", name="Precautions")
    assert precautions.first.is_visible() and "Modify treatment" in precautions.first.inner_text()
    console.checked("sweep-journey-chart")
    console.follow("Calendar")
    assert "Calendar" in page.inner_text("h1"), (page.url, page.inner_text("main")[:800])
    page.get_by_label("Day", exact=True).fill(clinic.began.date().isoformat())
    console.send("Show")
    console.follow(f"{clinic.began:%H:%M}")
    assert "Session of" in page.inner_text("h1")
    standing_out = "[role=note][aria-label=Precautions], section.precautions.stand-out"
    assert page.locator(standing_out).first.is_visible()  # beside the form, as on the chart
    console.checked("sweep-journey-session-to-record")
    page.get_by_label("Subjective: what the patient reports").fill("less pain sitting")
    page.get_by_label("Objective: what you found").fill("lumbar flexion improved")
    page.get_by_label("Assessment").fill("responding")
    page.get_by_label("Plan for the next sessions").fill("continue")
    assert "no deep" in page.locator("label[for=f-technique-1]").inner_text()  # the modification
    page.locator("input[name=techniques]").first.press("Space")
    page.locator("input[name=areas]").first.press("Space")
    page.get_by_label("Pressure", exact=True).select_option("light")
    page.get_by_label("Score (0–10)").fill("3")
    console.send("Record the session")
    assert "recorded; NPRS 3." in console.flash()
    assert console.script_errors == [] and console.dialogs == []

    console.open(f"/plans/{clinic.plan_id}")
    console.follow("Outcomes over time")
    chart = page.locator("figure").first
    assert chart.locator("circle").count() >= 2  # the baseline and the new point
    rows = page.locator("table.scores tbody tr")
    assert rows.count() == 2  # the baseline, and the session's score: 3, four points better
    assert rows.last.locator("td").all_inner_texts()[:3] == ["3", "+4", "yes"]
    console.checked("sweep-journey-outcomes-after-session")
    console.close()
