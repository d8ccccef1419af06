"""The patient's side of the loop, in a real browser: the welcome email's link opens the intake
form, a mistake is shown next to its field and corrected, the form is sent, staff see the intake
completed by the patient, and planning drafts the plan."""

from __future__ import annotations

import re

import pytest

from testkit.browser import (
    PHONE,
    PatientAnswers,
    chromium,
    correct,
    error_next_to,
    field_of,
    fill_intake_form,
    is_thank_you_page,
    open_page,
    send_form,
)
from testkit.clinics import open_clinic
from testkit.partner import PartnerSystem
from testkit.referrals import fhir_referral
from testkit.waiting import wait_until
from tests.e2e.loop.test_whole_loop import PATIENT_EMAIL, emails_to


@pytest.fixture
def loop(system):
    return system


def test_the_link_in_the_welcome_email_leads_to_a_completed_intake_and_a_drafted_plan(
    loop, rabbit_admin, vhost
):
    stack, inbox = loop
    partner = PartnerSystem(rabbit_admin, vhost)
    try:
        opened = open_clinic(stack, partner.partner_id)
        tenant_id, staff = opened.tenant_id, opened.staff
        wait_until(
            lambda: staff.session.get(f"{stack.url('notifications')}/config", timeout=5).ok,
            timeout=30,
            message="the admin key to reach notifications",
        )
        staff.put("notifications", "/config", {"quiet_hours": None})
        partner.refer(tenant_id, fhir_referral(), datacontenttype="application/fhir+json")

        [welcome] = wait_until(
            lambda: emails_to(inbox, PATIENT_EMAIL), timeout=30, message="the welcome"
        )
        link = re.search(r"https?://\S+/intake/[A-Za-z0-9._-]+", welcome.text).group(0)

        with chromium() as browser:
            page = open_page(browser, PHONE)
            page.goto(link)
            fill_intake_form(page, PatientAnswers(), mistake="missing_signature")
            send_form(page)
            assert error_next_to(page, field_of("missing_signature"))
            correct(page, PatientAnswers(), "missing_signature")
            send_form(page)
            assert is_thank_you_page(page)

        [intake] = wait_until(
            lambda: staff.get("intake", "/intakes")["items"],
            timeout=20,
            message="the intake in the staff API",
        )
        assert intake["completed_by"] == "patient"
        [plan] = wait_until(
            lambda: [p for p in staff.get("planning", "/plans")["items"] if p["status"] == "draft"],
            timeout=40,
            message="the plan drafted in planning",
        )
        assert plan["referral_id"] == intake["referral_id"]
    except AssertionError:
        print(stack.logs())
        raise
    finally:
        partner.close()
