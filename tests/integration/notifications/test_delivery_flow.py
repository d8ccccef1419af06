"""From event to message: planning, dedup, reminders, and sending through real SMTP and SMS
servers, with the service in this process and a fixed clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.integration.notifications.harness import NO_QUIET_HOURS, NOON_UTC
from tests.support.notifications_events import referral_accepted, session_event

PATIENT_EMAIL = "maria@example.org"
REFERRER = "dr.lee@practice.example"
REMINDERS = {
    "reminders": [
        {"key": "email-24h", "channel": "email", "minutes_before": 24 * 60},
        {"key": "sms-2h", "channel": "sms", "minutes_before": 120},
    ]
}


def test_an_accepted_referral_welcomes_the_patient_once_and_tells_the_referrer(service, inbox):
    service.configure(**NO_QUIET_HOURS)
    referral = referral_accepted("pat-1", email=PATIENT_EMAIL, consent=("email",))
    assert service.handle(referral) == [True]
    assert service.handle(referral, referral) == [False, False]  # redelivered: a duplicate
    assert service.statuses() == {
        ("patient", "email", "patient_welcome"): "queued",
        ("patient", "sms", "patient_welcome"): "suppressed",  # no consent to texts
        ("referrer", "email", "referrer_referral_accepted"): "queued",
        ("staff", "email", "staff_new_referral"): "suppressed",  # no staff inbox configured
    }
    assert service.send_due() == 2
    [welcome] = inbox.to(PATIENT_EMAIL)
    assert "https://intake.example/forms/pat-1-token" in welcome.text
    assert welcome.html and "https://intake.example/forms/pat-1-token" in welcome.html
    assert welcome.headers["List-Unsubscribe"].startswith(
        "<https://notify.clinic.example/unsubscribe/"
    )
    assert "M54.2" not in welcome.text and "Cervicalgia" not in welcome.text
    [acceptance] = inbox.to(REFERRER)
    assert acceptance.subject == "Referral REF-pat-1 accepted by clinic-north"
    assert "Maria Lopez, born February 29, 1980" in acceptance.text
    assert "ref-pat-1" not in acceptance.text  # the prescriber's id, never the clinic's
    assert service.handle(referral) == [False] and service.send_due() == 0
    assert len(inbox.mails) == 2


def test_a_sent_delivery_records_the_answer_keeps_no_data_and_emits_notification_sent(
    service, inbox
):
    service.configure(**NO_QUIET_HOURS)
    service.handle(referral_accepted("pat-1", email=PATIENT_EMAIL, referrer_email=None))
    service.send_due()
    sent = service.one(status="sent")
    assert sent["attempts"] == 1 and sent["provider_answer"].startswith("250")
    assert "data" not in sent and "claim" not in sent
    assert inbox.mails[0].message_id == f"<{sent['_id']}@example.org>"
    [outcome] = sent["outbox"]
    assert outcome["routing_key"] == "notification.sent"
    assert outcome["event"]["data"] == {
        "delivery_id": sent["_id"],
        "event_type": "referral.accepted",
        "audience": "patient",
        "channel": "email",
        "template": "patient_welcome",
        "attempts": 1,
    }


def test_a_scheduled_session_is_confirmed_then_reminded_at_the_configured_times(
    service, inbox, sms
):
    service.configure(**NO_QUIET_HOURS, **REMINDERS)
    service.handle(
        referral_accepted("pat-1", email=PATIENT_EMAIL, phone="+12125550142",
                          consent=("email", "sms"), referrer_email=None)
    )  # fmt: skip
    starts = NOON_UTC + timedelta(days=3)
    service.handle(session_event("session.scheduled", "ses-1", "pat-1", starts))
    reminders = {d["channel"]: d["send_at"] for d in service.deliveries(kind="reminder")}
    assert reminders == {"email": starts - timedelta(hours=24), "sms": starts - timedelta(hours=2)}
    service.send_due()
    assert [m.subject for m in inbox.to(PATIENT_EMAIL)] == [
        "Welcome to clinic-north: please complete your health history",
        "Your appointment at clinic-north is confirmed",
    ]
    assert len(sms.sent) == 2  # the welcome and the confirmation
    service.at(starts - timedelta(hours=24, seconds=1)).send_due()
    assert len(inbox.mails) == 2
    service.at(starts - timedelta(hours=24)).send_due()
    assert inbox.to(PATIENT_EMAIL)[-1].subject == "Reminder: your appointment at clinic-north"
    service.at(starts - timedelta(hours=2)).send_due()
    assert "reminder" in sms.sent[-1].body and len(sms.sent) == 3


def test_a_reschedule_moves_pending_reminders_and_a_cancellation_drops_them(service, inbox):
    service.configure(**NO_QUIET_HOURS, **REMINDERS)
    service.handle(referral_accepted("pat-1", email=PATIENT_EMAIL, referrer_email=None))
    starts = NOON_UTC + timedelta(days=3)
    service.handle(session_event("session.scheduled", "ses-1", "pat-1", starts))
    moved = starts + timedelta(days=1)
    service.handle(session_event("session.rescheduled", "ses-1", "pat-1", moved))
    reminders = service.deliveries(kind="reminder", channel="email")
    assert [(r["status"], r["reason"]) for r in reminders] == [
        ("cancelled", "session.rescheduled"),
        ("queued", None),
    ]
    assert reminders[1]["send_at"] == moved - timedelta(hours=24)
    service.handle(
        session_event("session.cancelled", "ses-1", "pat-1", moved, cancelled_by="clinic")
    )
    assert {d["status"] for d in service.deliveries(kind="reminder")} == {"cancelled"}
    service.at(moved).send_due()
    subjects = [m.subject for m in inbox.to(PATIENT_EMAIL)]
    assert not [s for s in subjects if s.startswith("Reminder")]
    assert subjects[-1] == "clinic-north had to cancel your appointment"


def test_a_session_event_overtaken_by_a_newer_one_changes_nothing(service):
    service.configure(**NO_QUIET_HOURS, **REMINDERS)
    starts = NOON_UTC + timedelta(days=3)
    scheduled = session_event("session.scheduled", "ses-1", "pat-1", starts)
    cancelled = replace(
        session_event("session.cancelled", "ses-1", "pat-1", starts, cancelled_by="patient"),
        time=scheduled.time + timedelta(seconds=1),
    )
    assert service.handle(cancelled) == [True]
    before = service.deliveries()
    assert service.handle(scheduled) == [False]  # arrived late: no confirmation, no reminders
    assert service.deliveries() == before


def test_consent_withdrawn_after_planning_suppresses_the_message_at_send_time(service, inbox):
    service.configure(**NO_QUIET_HOURS, **REMINDERS)
    service.handle(referral_accepted("pat-1", email=PATIENT_EMAIL, referrer_email=None))
    service.send_due()
    starts = NOON_UTC + timedelta(days=3)
    service.handle(session_event("session.scheduled", "ses-1", "pat-1", starts))
    service.db.contacts.update_one({}, {"$set": {"opted_out_channels": ["email"]}})
    service.at(starts - timedelta(hours=24)).send_due()
    assert len(inbox.mails) == 1  # the welcome only
    statuses = {
        d["template"]: (d["status"], d["reason"]) for d in service.deliveries(channel="email")
    }
    assert statuses["patient_session_confirmed"] == ("suppressed", "consent")
    assert statuses["patient_session_reminder"] == ("suppressed", "consent")


def test_a_reminder_found_due_only_after_the_session_began_is_cancelled_not_sent(service, inbox):
    service.configure(**NO_QUIET_HOURS, **REMINDERS)
    service.handle(referral_accepted("pat-1", email=PATIENT_EMAIL, referrer_email=None))
    starts = NOON_UTC + timedelta(days=3)
    service.handle(session_event("session.scheduled", "ses-1", "pat-1", starts))
    service.send_due()
    service.at(starts + timedelta(minutes=5)).send_due()  # the worker was down until now
    reminders = service.deliveries(kind="reminder")
    assert {(r["status"], r["reason"]) for r in reminders} == {("cancelled", "too_late")}
    assert not [m for m in inbox.mails if m.subject.startswith("Reminder")]
