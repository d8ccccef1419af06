"""Pages 4, 5 and 6 in a real browser (Debian's Chromium) against the real processes: a
therapist finds a patient by the start of a name (accents ignored), opens the chart, records the
intake on the patient's own form (an error shown next to its field, what was typed kept), sees
the screening's precautions stand out, records a physician's clearance and sees the chart say
so. Every page is checked with axe-core (WCAG 2.1 A and AA) and screenshotted at 390x844 and
1280x900 into test-artifacts/; hostile names run nothing. Keyboard only."""

from __future__ import annotations

import uuid

from testkit.console import Console
from testkit.referrals import native_referral
from testkit.staff_accounts import staffed_clinic

HOSTILE = "<img src=x onerror=alert(1)>"


def referred(location: str, given: str, family: str, mrn: str) -> dict:
    referral = native_referral(location_id=location)
    referral["patient"] = {**referral["patient"], "given_name": given, "family_name": family,
                           "email": None, "identifiers": [{"system": "urn:t", "value": mrn}]}  # fmt: skip
    return referral


def test_a_therapist_finds_a_patient_records_the_intake_and_a_clearance(system, browser):
    stack, _inbox = system
    clinic = staffed_clinic(stack.ops, stack.url("intake"), f"south-{uuid.uuid4().hex[:6]}")
    desk_api = clinic.front_desk.signed_in.client(stack.urls, "front desk")
    lakeside = "lakeside"  # the therapist's one location
    referral = referred(lakeside, "Zoë", "Lindqvist", "ZL-1")
    desk_api.post("intake", "/referrals", referral)
    desk_api.post("intake", "/referrals", referred(lakeside, HOSTILE, "{{7*7}}", "H-1"))
    console = Console(browser, stack.console_url)
    console.sign_in(clinic.tenant_id, clinic.therapist.email, clinic.therapist.password)

    console.follow("Patients")
    assert console.page.get_by_role("link", name=f"{HOSTILE} {{{{7*7}}}}").count() == 1
    console.checked("patients")
    console.page.get_by_label("Phone").fill("12")
    console.send("Find")
    assert "phone" in console.error_next_to("Phone").lower()
    assert console.page.get_by_label("Phone").input_value() == "12"  # kept
    console.checked("patients-error")
    console.page.get_by_label("Phone").fill("")
    console.page.get_by_label("Name").fill("LIND zoe")
    console.send("Find")
    assert "1 patient found" in console.page.inner_text("main")
    console.checked("patients-found")

    console.follow("Zoë Lindqvist")
    assert "No intake yet" in console.page.inner_text("main")
    console.checked("patient-chart-new")
    console.follow(f"Record the intake for referral {referral['partner_referral_id']}")
    console.checked("intake-form")
    page = console.page
    page.get_by_label("Symptom 1: what you feel").fill("Low back pain when sitting")
    page.get_by_label("Symptom 1: how bad, from 0 (not at all) to 10 (worst)").fill("11")
    page.locator('[name="nprs_1"]').fill("6")
    for n in range(1, 11):  # low back and neck pain: the Oswestry and neck disability indexes
        page.locator(f'select[name="odi_{n}"]').select_option("2")
        page.locator(f'select[name="ndi_{n}"]').select_option("1")
    page.get_by_label("I am being treated for cancer").press("Space")
    page.get_by_label("I have read this and I agree (required)").press("Space")
    console.send("Save the intake and screen it")
    assert "10" in console.error_next_to("Symptom 1: how bad, from 0 (not at all) to 10 (worst)")
    assert "sign" in console.error_next_to("Type your full name as your signature (required)")
    assert page.get_by_label("I am being treated for cancer").is_checked()  # kept
    console.checked("intake-form-error")
    page.get_by_label("Symptom 1: how bad, from 0 (not at all) to 10 (worst)").fill("6")
    page.get_by_label("Type your full name as your signature (required)").fill("Zoë Lindqvist")
    console.send("Save the intake and screen it")
    assert "Intake recorded for Zoë Lindqvist" in console.flash()
    assert page.locator(".precautions-needs_clearance").is_visible()
    console.checked("intake-review")

    page.locator('input[name="rule_ids"]').first.press("Space")
    page.get_by_label("The physician who cleared treatment").fill("Dr Ana Ruiz")
    page.get_by_label("Note (what the physician said, and when)").fill("Oncologist agrees.")
    console.send("Record the clearance")
    assert "Clearance by Dr Ana Ruiz recorded for Zoë Lindqvist" in console.flash()
    console.checked("intake-cleared")
    console.follow("Zoë Lindqvist")
    assert "cleared by Dr Ana Ruiz" in page.inner_text("main")
    console.checked("patient-chart")
    console.close()
