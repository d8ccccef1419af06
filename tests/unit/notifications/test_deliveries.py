from datetime import UTC, datetime, timedelta

from services.notifications.domain.contacts import PatientPrefs
from services.notifications.domain.deliveries import NOTIFICATIONS_SOURCE, Origin, delivery_key
from services.notifications.domain.delivery_plan import (
    event_deliveries,
    failure_notice,
    failure_report,
    reminder_deliveries,
)
from services.notifications.domain.tenant_config import TenantConfig
from services.notifications.events import outcome_data

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 12:00 in New York
CONFIG = TenantConfig.from_mapping(
    {"staff_emails": {"*": "desk@clinic.example"}, "location_timezones": {"loc-1": "UTC"}}
)
EMAIL_ONLY = PatientPrefs(email_ok=True)
REFERRAL = {
    "referral_id": "ref-1", "patient_id": "pat-1", "location_id": "loc-1", "partner_id": None,
    "referrer": {"name": "Dr. Lee", "email": "lee@practice.example"},
    "patient": {"given_name": "Maria", "email": "maria@example.org", "phone": "+12125550142"},
    "diagnoses": [{"code": "M54.2", "display": "Cervicalgia"}],
    "consent": {"email": True, "sms": False}, "intake_link": "https://i.example/t",
}  # fmt: skip
SESSION = {
    "session_id": "ses-1", "patient_id": "pat-1", "location_id": "loc-1", "plan_id": "p",
    "starts_at": (NOW + timedelta(days=3)).isoformat(), "location_tz": "America/New_York",
    "location_name": "Downtown", "duration_minutes": 60, "therapist_id": "th-1",
}  # fmt: skip


def origin(type_: str, event_id: str = "evt-1") -> Origin:
    return Origin("clinic/intake", event_id, type_, NOW, "corr-1")


def by_target(documents):
    return {(d["audience"], d["channel"]): d for d in documents}


def test_an_events_deliveries_are_keyed_by_event_recipient_and_channel():
    documents = by_target(
        event_deliveries("t1", origin("referral.accepted"), REFERRAL, EMAIL_ONLY, CONFIG, NOW)
    )
    welcome = documents["patient", "email"]
    assert welcome["_id"] == delivery_key("clinic/intake", "evt-1", "patient:pat-1", "email")
    assert (welcome["status"], welcome["send_at"], welcome["attempts"]) == ("queued", NOW, 0)
    assert welcome["tenant_id"] == "t1" and welcome["correlation_id"] == "corr-1"
    assert welcome["event"] == {
        "source": "clinic/intake", "id": "evt-1", "type": "referral.accepted", "time": NOW,
    }  # fmt: skip
    assert documents["referrer", "email"]["address"] == "lee@practice.example"
    assert documents["staff", "email"]["address"] == "desk@clinic.example"


def test_a_patient_address_is_never_stored_it_is_looked_up_when_sending():
    documents = event_deliveries(
        "t1", origin("referral.accepted"), REFERRAL, EMAIL_ONLY, CONFIG, NOW
    )
    assert all(d["address"] is None for d in documents if d["audience"] == "patient")


def test_suppressed_deliveries_say_why_and_keep_no_event_data():
    no_staff_inbox = TenantConfig()
    documents = by_target(
        event_deliveries(
            "t1", origin("referral.accepted"), REFERRAL, EMAIL_ONLY, no_staff_inbox, NOW
        )
    )
    expected = {("patient", "sms"): "consent", ("staff", "email"): "no_address"}
    for target, reason in expected.items():
        suppressed = documents[target]
        assert (suppressed["status"], suppressed["reason"]) == ("suppressed", reason)
        assert suppressed["data"] is None and suppressed["send_at"] is None


def test_a_message_held_by_quiet_hours_is_deferred_until_they_end():
    late = datetime(2026, 3, 11, 3, 0, tzinfo=UTC)  # 23:00 in New York
    documents = by_target(
        event_deliveries(
            "t1",
            origin("session.scheduled"),
            SESSION,
            EMAIL_ONLY,
            CONFIG,
            late,
            session_time=late,
        )  # fmt: skip
    )
    confirmation = documents["patient", "email"]
    assert confirmation["status"] == "deferred"
    assert confirmation["send_at"] == datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # 08:00 EDT
    assert (confirmation["session_id"], confirmation["session_time"]) == ("ses-1", late)


def test_reminders_are_queued_for_their_due_time_whatever_the_consent_today():
    documents = reminder_deliveries("t1", origin("session.scheduled"), SESSION, CONFIG, NOW)
    starts = NOW + timedelta(days=3)
    assert {(d["channel"], d["send_at"], d["status"]) for d in documents} == {
        ("email", starts - timedelta(hours=24), "queued"),
        ("sms", starts - timedelta(hours=2), "queued"),
    }
    assert {d["kind"] for d in documents} == {"reminder"}
    assert {d["event"]["source"] for d in documents} == {NOTIFICATIONS_SOURCE}
    assert {d["data"]["offset_key"] for d in documents} == {"email-24h", "sms-2h"}


def test_a_rescheduled_session_gets_new_reminder_keys_and_a_repeat_the_same_ones():
    plan = lambda data: {  # noqa: E731
        d["_id"] for d in reminder_deliveries("t1", origin("x"), data, CONFIG, NOW)
    }
    moved = {**SESSION, "starts_at": (NOW + timedelta(days=4)).isoformat()}
    assert plan(SESSION) == plan(dict(SESSION))
    assert plan(SESSION).isdisjoint(plan(moved))


def test_a_failure_notice_waits_for_its_staff_inboxs_report_and_names_no_contact_details():
    [welcome] = [
        d
        for d in event_deliveries(
            "t1", origin("referral.accepted"), REFERRAL, EMAIL_ONLY, CONFIG, NOW
        )
        if d["audience"] == "patient" and d["channel"] == "email"
    ]
    notice = failure_notice({**welcome, "attempts": 3}, "SMTP refused (550)", CONFIG, NOW)
    assert notice is not None
    assert (notice["audience"], notice["kind"], notice["address"]) == (
        "staff", "failure_notice", "desk@clinic.example",
    )  # fmt: skip
    assert (notice["status"], notice["send_at"]) == ("waiting", None)  # never sent alone
    assert notice["data"]["recipient_key"] == "patient:pat-1"
    assert "maria" not in str(notice) and "Cervicalgia" not in str(notice)
    again = failure_notice({**welcome, "attempts": 4}, "again", CONFIG, NOW + timedelta(hours=1))
    assert again is not None and again["_id"] == notice["_id"]  # one notice per failed delivery
    ends_at = datetime(2026, 3, 10, 16, 15, tzinfo=UTC)
    report = failure_report(notice, ends_at, NOW)
    assert (report["kind"], report["status"], report["send_at"]) == (
        "failure_report", "queued", ends_at,
    )  # fmt: skip
    assert (report["recipient_key"], report["address"]) == ("staff:loc-1", "desk@clinic.example")
    assert failure_report(again, ends_at, NOW + timedelta(hours=1))["_id"] == report["_id"]
    assert failure_report(notice, ends_at + timedelta(minutes=15), NOW)["_id"] != report["_id"]
    assert failure_notice(report, "refused", CONFIG, NOW) is None  # never a loop


def test_a_failure_notice_with_no_staff_inbox_configured_is_logged_as_suppressed():
    [welcome] = [
        d
        for d in event_deliveries(
            "t1", origin("referral.accepted"), REFERRAL, EMAIL_ONLY, CONFIG, NOW
        )
        if d["audience"] == "patient" and d["channel"] == "email"
    ]
    notice = failure_notice(welcome, "SMTP refused (550)", TenantConfig(), NOW)
    assert notice is not None and (notice["status"], notice["reason"]) == (
        "suppressed", "no_address",
    )  # fmt: skip


def test_outcome_events_carry_no_personal_data():
    [welcome] = [
        d
        for d in event_deliveries(
            "t1", origin("referral.accepted"), REFERRAL, EMAIL_ONLY, CONFIG, NOW
        )
        if d["audience"] == "referrer"
    ]
    data = outcome_data({**welcome, "attempts": 2}, reason="SMTP refused (550)")
    assert data == {
        "delivery_id": welcome["_id"], "event_type": "referral.accepted", "audience": "referrer",
        "channel": "email", "template": "referrer_referral_accepted", "attempts": 2,
        "reason": "SMTP refused (550)",
    }  # fmt: skip
