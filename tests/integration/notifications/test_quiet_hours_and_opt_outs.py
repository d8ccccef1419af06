"""Quiet hours in each location's own time zone, and patients' opt-outs, with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.notifications.repository.contacts import ContactDirectory
from tests.support.notifications_events import location_upserted, referral_accepted, session_event

PATIENT = "maria@example.org"
REFERRER = "dr.lee@practice.example"
PHONE = "+12125550142"


def local(tz: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC)


@pytest.mark.parametrize(
    ("tz", "now", "patient_mail_at"),
    [
        ("America/New_York", (2026, 3, 10, 22, 30), (2026, 3, 11, 8, 0)),
        ("America/New_York", (2026, 3, 7, 23, 0), (2026, 3, 8, 8, 0)),  # clocks spring forward
        ("Europe/Berlin", (2026, 3, 10, 23, 59), (2026, 3, 11, 8, 0)),
        ("Asia/Tokyo", (2026, 3, 10, 6, 0), (2026, 3, 10, 8, 0)),
        ("Australia/Sydney", (2026, 3, 10, 14, 0), (2026, 3, 10, 14, 0)),  # daytime: at once
    ],
)
def test_a_welcome_waits_out_quiet_hours_at_the_patients_location(
    service, inbox, tz, now, patient_mail_at
):
    service.at(local(tz, *now))
    service.handle(location_upserted("loc-1", tz))
    service.handle(referral_accepted("pat-1", email=PATIENT))
    due = local(tz, *patient_mail_at)
    welcome = service.one(audience="patient", channel="email")
    assert welcome["send_at"] == due
    assert welcome["status"] == ("queued" if due == service.clock() else "deferred")
    service.send_due()
    assert len(inbox.to(REFERRER)) == 1  # referrers are not held by patients' quiet hours
    if due > service.clock():
        assert inbox.to(PATIENT) == []
        service.at(due - timedelta(seconds=1)).send_due()
        assert inbox.to(PATIENT) == []
        service.at(due).send_due()
    assert len(inbox.to(PATIENT)) == 1


@pytest.mark.parametrize("tz", ["America/New_York", "Europe/Berlin", "Asia/Tokyo"])
def test_a_late_night_cancellation_of_an_early_session_goes_out_at_once(service, sms, inbox, tz):
    service.at(local(tz, 2026, 3, 10, 12, 0))
    service.handle(referral_accepted("pat-1", email=PATIENT, phone=PHONE, consent=("email", "sms")))
    service.send_due()  # the welcome, by day
    service.at(local(tz, 2026, 3, 10, 23, 0))
    cancelled = session_event(
        "session.cancelled", "ses-1", "pat-1", local(tz, 2026, 3, 11, 8, 30),
        location_tz=tz, cancelled_by="clinic",
    )  # fmt: skip
    service.handle(cancelled)
    assert service.statuses(**{"event.type": "session.cancelled"}) == {
        ("patient", "email", "patient_session_cancelled"): "queued",
        ("patient", "sms", "patient_session_cancelled"): "queued",
    }
    service.send_due()
    assert inbox.to(PATIENT)[-1].subject == "clinic-north had to cancel your appointment"
    assert "cancelled" in sms.sent[-1].body


def test_a_reminder_due_in_quiet_hours_moves_to_the_morning_if_still_useful(service):
    tz = "Europe/Berlin"
    service.at(local(tz, 2026, 3, 10, 12, 0))
    starts = local(tz, 2026, 3, 12, 9, 0)  # the 2 h text would be due at 07:00
    service.handle(session_event("session.scheduled", "ses-1", "pat-1", starts, location_tz=tz))
    reminders = {d["channel"]: d["send_at"] for d in service.deliveries(kind="reminder")}
    assert reminders == {"email": local(tz, 2026, 3, 11, 9, 0), "sms": local(tz, 2026, 3, 12, 8, 0)}


def test_an_opted_out_channel_is_logged_as_suppressed_and_never_sent(service, inbox, sms):
    service.at(local("America/New_York", 2026, 3, 10, 12, 0))
    service.handle(referral_accepted("pat-1", email=PATIENT, phone=PHONE, consent=("email", "sms")))
    service.send_due()  # the welcome, by email and text
    ContactDirectory(service.db.contacts).choose(
        "clinic-north", "pat-1", "sms", False, service.clock()
    )
    starts = local("America/New_York", 2026, 3, 13, 10, 0)
    service.handle(session_event("session.scheduled", "ses-1", "pat-1", starts))
    confirmations = service.statuses(**{"event.type": "session.scheduled"})
    assert confirmations == {
        ("patient", "email", "patient_session_confirmed"): "queued",
        ("patient", "sms", "patient_session_confirmed"): "suppressed",
    }
    service.send_due()
    assert len(sms.sent) == 1  # the welcome only
    ContactDirectory(service.db.contacts).choose(
        "clinic-north", "pat-1", "sms", True, service.clock()
    )
    service.at(starts - timedelta(hours=2)).send_due()
    assert len(sms.sent) == 2  # opted back in: the 2 h reminder goes out
    assert len(inbox.to(PATIENT)) == 3  # welcome, confirmation, 24 h reminder
