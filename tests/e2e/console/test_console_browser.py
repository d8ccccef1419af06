"""The staff console in a real browser (Debian's Chromium), against the seven real processes:
a front desk signs in, opens the inbox, opens a referral, and settles a held one; a person
invited by email sets a password from the link, signs in (enrolling a second factor, as admins
must), goes through the clinic settings and the delivery log, invites a therapist and signs
out, and the therapist signs in from the email link. Every page is checked with axe-core (WCAG 2.1 A and AA) and screenshotted
at 390x844 and 1280x900 into test-artifacts/; hostile names run nothing. Keyboard only."""

from __future__ import annotations

import uuid

import pyotp

from testkit.console import Console
from testkit.referrals import native_referral
from testkit.staff_accounts import link_token, staffed_clinic
from testkit.waiting import wait_until

HOSTILE = "<img src=x onerror=alert(1)>"
PASSWORD = "violet-harbour-counts-31"


def test_a_front_desk_signs_in_opens_the_inbox_and_a_referral_and_settles_a_held_one(
    system, browser
):
    stack, _inbox = system
    clinic = staffed_clinic(stack.ops, stack.url("intake"), f"north-{uuid.uuid4().hex[:6]}")
    desk_api = clinic.front_desk.signed_in.client(stack.urls, "front desk")
    patient = {**native_referral()["patient"], "given_name": HOSTILE, "family_name": "{{7*7}}"}
    desk_api.post("intake", "/referrals", native_referral(location_id="main", patient=patient))
    held = desk_api.post(
        "intake", "/referrals", native_referral(location_id="main", authorized_visits=None)
    )
    console = Console(browser, stack.console_url)

    console.open("/referrals")  # signed out: the sign-in page, which comes back here after
    console.checked("sign-in")
    console.sign_in(clinic.tenant_id, clinic.front_desk.email, PASSWORD_OF(clinic))
    assert console.page.url.endswith("/referrals") and "You are signed in" in console.flash()
    assert console.page.get_by_role("link", name=f"{HOSTILE} {{{{7*7}}}}").count() == 1
    console.checked("inbox")

    console.follow("Needs review")
    console.checked("inbox-needs-review")
    console.follow("Maria Elena Alvarez")
    assert console.page.get_by_role("heading", name="Settle what the review needs").is_visible()
    console.checked("referral-held")
    console.page.get_by_label("Visits authorized").fill("many")
    console.send("Save the review")
    assert "integer" in console.error_next_to("Visits authorized").lower()
    assert console.page.get_by_label("Visits authorized").input_value() == "many"  # kept
    console.checked("referral-held-error")
    console.page.get_by_label("Visits authorized").fill("6")
    # the same MRN as the first referral's patient: staff say it is that patient
    assert console.page.get_by_role("group", name="Who is the patient?").is_visible()
    console.page.get_by_label("MRN-558201").press("Space")
    console.send("Save the review")
    assert "accepted" in console.flash() and "Maria Elena Alvarez" in console.flash()
    assert "6 authorized, 0 used, 6 remaining" in console.page.inner_text("main")
    console.checked("referral-accepted")
    assert desk_api.get("intake", f"/referrals/{held['referral_id']}")["status"] == "accepted"

    console.follow("Referrals")
    console.follow(f"{HOSTILE} {{{{7*7}}}}")
    assert console.page.get_by_role(
        "heading", name=f"Referral for {HOSTILE} {{{{7*7}}}}"
    ).is_visible()
    console.checked("referral")
    console.close()


def PASSWORD_OF(clinic) -> str:  # noqa: N802 - reads as the phrase it is
    return clinic.front_desk.password


def test_a_person_invited_by_email_sets_a_password_from_the_link_and_signs_in(system, browser):
    stack, inbox = system
    tenant_id = f"lake-{uuid.uuid4().hex[:6]}"
    stack.ops("create-tenant", "--name", "Lakeside Massage", "--id", tenant_id,
              "--location", "Main:America/Chicago")  # fmt: skip
    email = f"dana@{tenant_id}.example"
    stack.ops("create-admin", "--tenant", tenant_id, "--name", "Dana Admin", "--email", email)
    [mail] = wait_until(lambda: inbox.to(email), timeout=60, message="the invitation email")
    link = f"{stack.console_url}/invitation/{link_token(mail)}"
    assert link in mail.text  # the email's link is the console's page
    console = Console(browser, stack.console_url)

    console.page.goto(link)
    console.checked("invitation")
    console.page.get_by_label("New password").fill("short")
    console.page.get_by_label("The same password again").fill("short")
    console.send("Set my password")
    assert "12" in console.error_next_to("New password")
    console.checked("invitation-error")
    console.page.get_by_label("New password").fill(PASSWORD)
    console.page.get_by_label("The same password again").fill(PASSWORD)
    console.send("Set my password")
    assert "Welcome, Dana Admin" in console.flash()
    assert console.page.get_by_label("Email").input_value() == email  # filled in for them
    console.page.get_by_label("Password").fill(PASSWORD)
    console.send("Sign in")

    assert console.page.url.endswith("/second-factor/enrol")  # admins must enrol first
    console.checked("enrol")
    console.send("Start")
    secret = console.page.locator("code.secret").inner_text()
    console.page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    console.send("Confirm")
    assert console.page.locator("ul.codes li").count() == 10
    console.checked("recovery-codes")
    console.follow("Go on to the referrals")
    assert console.page.get_by_role("link", name="Clinic settings").count() == 1  # an admin's
    console.follow("Clinic settings")
    assert console.page.get_by_role("heading", name="Clinic settings").is_visible()
    console.checked("settings-staff")

    # the admin's task: invite a therapist, who signs in from the email link
    sam = f"sam@{tenant_id}.example"
    console.page.get_by_label("Name", exact=True).fill("Sam Ortiz")
    console.page.get_by_label("Email", exact=True).fill("sam.example")
    console.page.get_by_label("Role").select_option("therapist")
    console.page.get_by_role("checkbox", name="Main").check()
    console.send("Send the invitation")
    assert "email" in console.error_next_to("Email").lower()
    assert console.page.get_by_label("Name", exact=True).input_value() == "Sam Ortiz"  # kept
    assert console.page.get_by_role("checkbox", name="Main").is_checked()
    console.checked("settings-staff-error")
    console.page.get_by_label("Email", exact=True).fill(sam)
    console.send("Send the invitation")
    assert "Sam Ortiz invited as therapist at Main" in console.flash()
    assert console.page.get_by_role("link", name="Sam Ortiz").is_visible()
    console.follow("Sam Ortiz")
    console.checked("settings-user")
    for section, name in (("Locations", "settings-locations"), ("Sign-in", "settings-sign-in"),
                          ("Notifications", "settings-notifications"),
                          ("Templates", "settings-templates")):  # fmt: skip
        console.follow(section)
        console.checked(name)
    console.page.get_by_label("Template", exact=True).select_option("patient_welcome.sms")
    console.send("Open")
    console.page.get_by_label("Text", exact=True).fill(
        "{{ clinic_name }} welcomes you, {{ recipient_name }}! Reply STOP to opt out."
    )
    console.send("Preview with sample data")
    assert "Sample Clinic welcomes you, Maria!" in console.page.inner_text(".preview")
    console.checked("settings-template-preview")
    console.follow("Messages")
    assert console.page.get_by_role("heading", name="Messages").is_visible()
    console.checked("messages")
    console.page.get_by_label("Planned from").fill("2001-02-01")
    console.page.get_by_label("Planned until").fill("2001-01-01")
    console.send("Show")
    assert "before" in console.error_next_to("Planned until")
    console.checked("messages-error")
    console.send("Sign out")
    assert "You are signed out" in console.flash()
    console.open("/referrals")
    assert "/sign-in" in console.page.url

    [invited] = wait_until(lambda: inbox.to(sam), timeout=60, message="Sam's invitation email")
    console.page.goto(f"{stack.console_url}/invitation/{link_token(invited)}")
    console.page.get_by_label("New password").fill(PASSWORD)
    console.page.get_by_label("The same password again").fill(PASSWORD)
    console.send("Set my password")
    assert "Welcome, Sam Ortiz" in console.flash()
    console.page.get_by_label("Password").fill(PASSWORD)
    console.send("Sign in")  # a therapist needs no second factor here
    assert console.page.url.endswith("/referrals") and "You are signed in" in console.flash()
    assert console.page.get_by_role("link", name="Clinic settings").count() == 0
    console.checked("therapist-signed-in")
    console.open("/settings/staff")  # not offered, and refused when asked
    assert console.page.get_by_role("heading", name="Not allowed").is_visible()
    console.close()


def test_the_accessibility_check_does_find_a_violation_where_there_is_one(browser):
    """The check above could pass by not running: here it must name an unlabelled field."""
    console = Console(browser, "about:blank")
    console.page.set_content("<html lang='en'><title>t</title><main><input id='x'></main></html>")
    assert "label" in [v["id"] for v in console.accessibility_violations()]
    console.close()
