"""What reaches a patient: names, places and rooms that look like ICD-10 codes do; a diagnosis a
clinic's override tries to show never does (real SMTP server, real stand-in database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifications.domain.failure_digest import DIGEST_PERIOD
from services.notifications.domain.template_check import check_override
from services.notifications.repository.template_overrides import TemplateOverrides
from testkit.waiting import wait_until
from tests.integration.notifications.harness import NO_QUIET_HOURS, NOON_UTC
from tests.support.notifications_events import TENANT, referral_accepted, session_event

STAFF = "office@clinic.example"
ADDRESS = "Unit B12, 4 Mill Lane, Manchester M54 1AA"
ROOM_OVERRIDE = (
    "Subject: Your appointment at {{ clinic_name }} is confirmed\n\n"
    "Hello {{ recipient_name }},\n\n"
    "{{ starts_at | local_datetime(location_tz) }} at {{ location_name }}, room {{ room_id }}.\n\n"
    "{{ unsubscribe_url }}"
)


def store_override(db, name: str, source: str) -> None:
    """As `PUT /templates/en/<name>` stores it: checked first."""
    check_override(TENANT, "en", name, source)
    TemplateOverrides(db.template_overrides).put(TENANT, "en", f"{name}.j2", source, NOON_UTC)


def behind_the_apis_back(db, name: str, source: str) -> None:
    TemplateOverrides(db.template_overrides).put(TENANT, "en", f"{name}.j2", source, NOON_UTC)


def mailbox(patient_id: str) -> str:
    return f"{patient_id}@example.org"


def welcome(patient_id: str = "pat-1", *, given_name: str = "Maria", diagnosis=None):
    referral = referral_accepted(patient_id, email=mailbox(patient_id), referrer_email=None)
    referral.data["patient"]["given_name"] = given_name
    if diagnosis is not None:
        referral.data["diagnoses"] = [diagnosis]
    return referral


def test_names_addresses_clinics_and_rooms_that_look_like_codes_reach_the_patient(
    worker, service, inbox
):
    """Through the worker's own consumer and sender, from the broker to the SMTP server."""
    service.configure(**NO_QUIET_HOURS, clinic_name="M54 Massage Clinic")
    store_override(service.db, "patient_session_confirmed.email", ROOM_OVERRIDE)
    session = session_event(
        "session.scheduled", "ses-1", "pat-1", datetime.now(UTC) + timedelta(days=3)
    )
    session.data.update(location_name=ADDRESS, room_id="C12")
    worker.publish(welcome(given_name="P10"), session)  # diagnosis: M54.2, Cervicalgia

    final = wait_until(
        lambda: (
            (found := service.deliveries(audience="patient", channel="email", kind="message"))
            and len(found) == 2
            and all(d["status"] not in ("queued", "deferred") for d in found)
            and found
        ),
        timeout=30,
        message="the welcome and the confirmation, sent or failed",
    )
    assert [(d["template"], d["status"], d.get("last_error")) for d in final] == [
        ("patient_welcome", "sent", None),
        ("patient_session_confirmed", "sent", None),
    ]
    mails = {mail.subject: mail for mail in inbox.to(mailbox("pat-1"))}
    greeting = mails["Welcome to M54 Massage Clinic: please complete your health history"]
    assert greeting.text.startswith("Hello P10,")
    confirmation = mails["Your appointment at M54 Massage Clinic is confirmed"]
    assert "Hello P10," in confirmation.text
    assert f"at {ADDRESS}, room C12." in confirmation.text
    assert "M54.2" not in greeting.text + confirmation.text
    assert "Cervicalgia" not in greeting.text + confirmation.text


def test_an_override_naming_a_clinical_field_shows_the_patient_nothing_of_it(service, inbox):
    """Stored behind the API's back (the API refuses it): the field is simply not there."""
    service.configure(**NO_QUIET_HOURS, staff_emails={"*": STAFF})
    behind_the_apis_back(
        service.db,
        "patient_welcome.email",
        "Subject: Your {{ body_sites | join(', ') }} treatment\n\nSee you soon. {{ unsubscribe_url }}",
    )
    service.handle(welcome())  # body_sites: ["neck"], which no term list names
    service.send_due()
    failed = service.one(audience="patient", channel="email")
    assert (failed["status"], failed["last_error"]) == (
        "failed", "TemplateError: patient_welcome.email.j2: 'body_sites' is undefined",
    )  # fmt: skip
    assert inbox.to(mailbox("pat-1")) == []


def test_an_override_hard_coding_the_events_diagnosis_never_sends_it_and_staff_are_told(
    service, inbox
):
    """The save check passes (the sample event has no such diagnosis); the PHI guard finds the
    event's own clinical values when the message is rendered."""
    service.configure(**NO_QUIET_HOURS, staff_emails={"*": STAFF})
    store_override(
        service.db,
        "patient_welcome.email",
        "Subject: Welcome, {{ recipient_name }}\n\n"
        "We treat cervical disc disorder (M50.0) every day. {{ unsubscribe_url }}",
    )
    disc = {"code": "M50.0", "display": "Cervical disc disorder"}
    service.handle(welcome("pat-1", diagnosis=disc), welcome("pat-2", given_name="Ana"))
    service.send_due()
    failed, sent = (
        service.one(recipient_key=f"patient:{p}", channel="email") for p in ("pat-1", "pat-2")
    )
    assert failed["status"] == "failed" and failed["last_error"].startswith("PhiLeak")
    assert "M50" not in failed["last_error"] and "disc" not in failed["last_error"]
    assert sent["status"] == "sent"  # the same words about someone else: not their diagnosis
    assert inbox.to(mailbox("pat-1")) == []
    [other] = inbox.to(mailbox("pat-2"))
    assert (other.subject, other.text.startswith("We treat")) == ("Welcome, Ana", True)

    service.at(NOON_UTC + DIGEST_PERIOD).send_due()
    [told] = [m for m in inbox.to(STAFF) if m.subject.endswith("could not be delivered")]
    assert told.subject == "An email message could not be delivered"
    assert "patient:pat-1" in told.text and "PhiLeak" in told.text
    assert "M50" not in told.text and "disc" not in told.text
