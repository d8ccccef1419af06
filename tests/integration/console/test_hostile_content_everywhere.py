"""Hostile content on every page that shows a name or a note, against the real APIs: a patient
named `<img src=x onerror=alert(1)> {{7*7}}`, whose referral notes, intake history and
symptoms, session notes, cancellation reason and discharge reason are markup and template
syntax, and a staff member named like an SVG attack. Every page shows each as escaped text: the
markup never reaches the page as markup and `{{7*7}}` stays itself (never `49`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape

from testkit.referrals import distinct_referral
from testkit.staff_forms import clear_intake_form, session_notes
from testkit.waiting import wait_until

LAKESIDE_ZONE = ZoneInfo("America/Chicago")
IMG = "<img src=x onerror=alert(1)>"
TEMPLATE = "{{7*7}}"
SCRIPT = "<script>alert(1)</script>"
SVG = '"><svg onload=alert(1)>'
MARKUP = (IMG, SCRIPT, SVG)
NOTE = f"{SCRIPT} {TEMPLATE} {SVG}"
"""Every free-text field of the patient's care says this."""
SHOWN_NAME = f"{escape(IMG)} {TEMPLATE}"


def page(answer) -> str:
    assert answer.status_code == 200, answer.get_data(as_text=True)[-2000:]
    return answer.get_data(as_text=True)


@pytest.fixture(scope="module")
def care(world) -> dict[str, Any]:
    """The hostile patient's referral, intake (with warfarin: precautions), approved plan, one
    session recorded with hostile notes and an NPRS score, one cancelled with a hostile reason;
    a staff member with a hostile name."""
    desk, therapist, admin = world.api("front_desk"), world.api("therapist"), world.api("admin")
    lakeside = world.clinic.locations[-1]
    referral = {
        **distinct_referral(77, given_name=IMG, family_name=TEMPLATE),
        "location_id": lakeside,
        "valid_from": (datetime.now(LAKESIDE_ZONE).date() - timedelta(days=2)).isoformat(),
        "notes": [NOTE],
    }
    referral_id = desk.post("intake", "/referrals", referral)["referral_id"]
    form = clear_intake_form(referral_id)
    form["history"]["notes"] = NOTE
    form["symptoms"][0]["description"] = NOTE
    form["medications"] = ["warfarin"]  # the screening's precautions: modify
    intake_id = desk.post("intake", "/intakes", form, expect=201)["intake_id"]
    draft = wait_until(
        lambda: (
            (found := desk.get("planning", f"/plans?referral_id={referral_id}")["items"])
            and found[0]["status"] == "draft"
            and found[0]
        ),
        timeout=90,
        message="the hostile patient's drafted plan",
    )
    plan_id = draft["plan_id"]
    therapist.post("planning", f"/plans/{plan_id}/approve", {"version": draft["version"]})
    sam = therapist.get("intake", "/auth/me")["user_id"]
    began = datetime.now(LAKESIDE_ZONE).replace(second=0, microsecond=0) - timedelta(hours=3)
    sessions = f"/plans/{plan_id}/sessions"
    done = desk.post("planning", sessions, {"therapist_id": sam,
                                            "starts_at_local": f"{began:%Y-%m-%dT%H:%M}"})  # fmt: skip
    notes = session_notes([{"measure": "NPRS", "score": 4}], response=NOTE)
    notes["soap"] = {part: NOTE for part in ("subjective", "objective", "assessment", "plan")}
    therapist.post("planning", f"{sessions}/{done['session_id']}/complete", notes)
    later = began + timedelta(days=1, hours=1)
    off = desk.post("planning", sessions, {"therapist_id": sam,
                                           "starts_at_local": f"{later:%Y-%m-%dT%H:%M}"})  # fmt: skip
    desk.post(
        "planning",
        f"{sessions}/{off['session_id']}/cancel",
        {"cancelled_by": "patient", "reason": NOTE},
    )
    patient_id = desk.get("intake", f"/referrals/{referral_id}")["patient_id"]
    second = {**distinct_referral(78, given_name=IMG, family_name=TEMPLATE),
              "location_id": lakeside, "notes": [NOTE]}  # fmt: skip
    to_intake = desk.post("intake", "/referrals", second)["referral_id"]  # no intake yet
    staff = admin.post(
        "intake",
        "/admin/users",
        {"name": f"{SVG} {TEMPLATE}", "email": f"svg@{world.clinic.tenant_id}.example",
         "role": "therapist", "locations": [lakeside]},
    )  # fmt: skip
    return {
        "referral_id": referral_id,
        "patient_id": patient_id,
        "plan_id": plan_id,
        "done": done,
        "off": off,
        "began": began,
        "lakeside": lakeside,
        "staff_id": staff["user_id"],
        "intake_id": intake_id,
        "to_intake": to_intake,
    }


def assert_text_only(body: str, where: str, *shown: str) -> None:
    """None of the markup is in the page as markup; each of `shown` is there escaped."""
    for raw in MARKUP:
        assert raw not in body, (where, raw)
    assert "onerror=alert(1)>" not in body and "onload=alert(1)>" not in body, where
    for text in shown:
        assert str(escape(text)) in body, (where, text)  # as the templates escape it
    if TEMPLATE in "".join(shown):
        assert " 49" not in body.replace(TEMPLATE, ""), where  # nothing evaluated it


def test_every_page_shows_the_hostile_patient_and_notes_as_text(world, care, signed_in):
    admin, therapist = signed_in("admin"), signed_in("therapist")
    plan, lakeside = care["plan_id"], care["lakeside"]
    day = care["began"].date().isoformat()
    session = f"/calendar/plans/{plan}/sessions"
    name = f"{IMG} {TEMPLATE}"
    pages = {
        "inbox": (admin, "/referrals", [name]),
        "referral": (admin, f"/referrals/{care['referral_id']}", [name, NOTE]),
        "patient search": (admin, "/patients?name=img", [name]),
        "chart": (therapist, f"/patients/{care['patient_id']}", [name, NOTE]),
        "intake form": (admin, f"/referrals/{care['to_intake']}/intake", [name]),
        "intake review": (therapist, f"/intakes/{care['intake_id']}", [name, NOTE]),
        "plans": (therapist, "/plans?tab=active", [name]),
        "plan": (therapist, f"/plans/{plan}", [name]),
        "calendar day": (therapist, f"/calendar?location={lakeside}&date={day}", [name]),
        "calendar week": (admin, f"/calendar?location={lakeside}&date={day}&view=week", [name]),
        "session recorded": (therapist, f"{session}/{care['done']['session_id']}", [name, NOTE]),
        "session cancelled": (admin, f"{session}/{care['off']['session_id']}", [name]),
        "outcomes": (therapist, f"/plans/{plan}/outcomes", [name]),
        "discharge": (therapist, f"/plans/{plan}/discharge", [name]),
        "messages": (admin, "/messages", []),
        "staff": (admin, "/settings/staff", [f"{SVG} {TEMPLATE}"]),
        "staff member": (admin, f"/settings/staff/{care['staff_id']}", [f"{SVG} {TEMPLATE}"]),
    }
    for where, (person, path, shown) in pages.items():
        assert_text_only(page(person.get(path)), where, *shown)
    assert SHOWN_NAME in page(admin.get("/referrals"))
    cancelled = page(admin.get(f"{session}/{care['off']['session_id']}"))
    assert str(escape(NOTE)) in cancelled  # the reason, as text


def test_the_outcome_chart_image_and_a_discontinuation_reason_are_text(world, care, signed_in):
    therapist = signed_in("therapist")
    plan = care["plan_id"]
    image = therapist.get(f"/plans/{plan}/outcomes/NPRS.svg")
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    assert_text_only(image.get_data(as_text=True), "chart image")
    current = world.api("therapist").get("planning", f"/plans/{plan}")
    therapist.get(f"/plans/{plan}/discharge")
    done = therapist.post(
        f"/plans/{plan}/discontinue", {"version": str(current["version"]), "reason": NOTE}
    )
    assert done.status_code == 302, done.get_data(as_text=True)[-2000:]
    for path in (done.headers["Location"], f"/plans/{plan}", f"/patients/{care['patient_id']}"):
        assert_text_only(page(therapist.get(path)), path, f"{IMG} {TEMPLATE}")
