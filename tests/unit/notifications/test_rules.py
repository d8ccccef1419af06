from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.notifications.domain.contacts import PatientPrefs, normalize_phone
from services.notifications.domain.deliveries import delivery_key
from services.notifications.domain.delivery_plan import send_at
from services.notifications.domain.quiet_hours import QuietHours
from services.notifications.domain.rules import (
    DELIVERY_FAILED,
    REMINDER_DUE,
    load_rules,
    plan_notifications,
)
from services.notifications.domain.tenant_config import TenantConfig

NY = ZoneInfo("America/New_York")
CONFIG = {
    "staff_emails": {"loc-1": "front-desk@clinic.example", "*": "office@clinic.example"},
    "partner_webhooks": {"partner-9": "https://partner.example/hooks/clinic"},
    "location_timezones": {"loc-1": "America/New_York"},
}
ALL_OK = {"email_ok": True, "sms_ok": True, "opted_out_channels": [], "language": None}


def referral_accepted(**consent):
    return {
        "referral_id": "ref-1",
        "patient_id": "pat-1",
        "location_id": "loc-1",
        "partner_id": "partner-9",
        "referrer": {"name": "Dr. Ada Lee", "email": "Ada.Lee@Practice.example", "phone": None},
        "patient": {
            "given_name": "Maria",
            "family_name": "Lopez",
            "email": "maria@example.org",
            "phone": "(212) 555-0142",
            "language": "es",
        },
        "consent": {"email": True, "sms": True, **consent},
        "intake_link": "https://clinic.example/intake/tok",
    }


def session(starts_at: datetime, **extra):
    return {
        "session_id": "ses-1",
        "plan_id": "plan-1",
        "patient_id": "pat-1",
        "location_id": "loc-1",
        "therapist_id": "th-1",
        "starts_at": starts_at.astimezone(UTC).isoformat(),
        "duration_minutes": 60,
        "location_tz": "America/New_York",
        "location_name": "Downtown",
        **extra,
    }


def by_target(notifications):
    return {(n.audience, n.channel): n for n in notifications}


def test_an_accepted_referral_welcomes_the_patient_and_tells_referrer_staff_and_partner():
    planned = by_target(plan_notifications("referral.accepted", referral_accepted(), None, CONFIG))
    assert set(planned) == {
        ("patient", "email"), ("patient", "sms"), ("referrer", "email"), ("staff", "email"),
        ("partner", "webhook"),
    }  # fmt: skip
    email, sms = planned["patient", "email"], planned["patient", "sms"]
    assert (email.template, email.address, email.recipient_key) == (
        "patient_welcome", "maria@example.org", "patient:pat-1",
    )  # fmt: skip
    assert sms.address == "+12125550142"
    assert email.language == sms.language == "es"
    assert email.timezone == "America/New_York" and email.quiet_hours and not email.urgent
    assert planned["referrer", "email"].recipient_key == "referrer:ada.lee@practice.example"
    assert planned["staff", "email"].address == "front-desk@clinic.example"
    assert planned["partner", "webhook"].address == "https://partner.example/hooks/clinic"
    assert all(n.suppressed is None for n in planned.values())


def test_a_channel_without_consent_is_kept_but_marked_suppressed_by_consent():
    planned = by_target(
        plan_notifications("referral.accepted", referral_accepted(sms=False), None, CONFIG)
    )
    assert planned["patient", "sms"].suppressed == "consent"
    assert planned["patient", "email"].suppressed is None


def test_an_opt_out_beats_consent_given_on_the_referral():
    prefs = {**ALL_OK, "opted_out_channels": ["email"]}
    planned = by_target(plan_notifications("referral.accepted", referral_accepted(), prefs, CONFIG))
    assert planned["patient", "email"].suppressed == "consent"
    assert planned["patient", "sms"].suppressed is None


def test_without_any_consent_patient_messages_are_all_suppressed():
    data = session(datetime(2025, 6, 20, 10, 0, tzinfo=NY))
    planned = plan_notifications(
        "session.scheduled", data, None, CONFIG, now=datetime(2025, 6, 1, tzinfo=UTC)
    )
    assert [(n.channel, n.suppressed) for n in planned] == [
        ("email", "consent"),
        ("sms", "consent"),
    ]
    assert all(n.address is None for n in planned)  # the worker resolves it from the directory


def test_no_referrer_means_no_referrer_message():
    data = {**referral_accepted(), "referrer": None, "partner_id": None}
    audiences = {n.audience for n in plan_notifications("referral.accepted", data, None, CONFIG)}
    assert audiences == {"patient", "staff"}


def test_a_rejected_referral_goes_back_to_referrer_and_partner_only():
    data = {
        "partner_id": "partner-9",
        "partner_referral_id": "P-77",
        "referrer": {"name": "Dr. Lee", "email": "lee@practice.example"},
        "reasons": ["missing diagnosis"],
    }
    planned = plan_notifications("referral.rejected", data, None, CONFIG)
    assert {(n.audience, n.template) for n in planned} == {
        ("referrer", "referrer_referral_rejected"), ("partner", "partner_referral_status"),
    }  # fmt: skip


def test_patient_registration_alone_sends_nothing():
    data = {"patient_id": "p", "contact": {"email": "a@b.example"}, "consent": {"email": True}}
    assert plan_notifications("patient.registered", data, None, CONFIG) == []
    assert plan_notifications("something.unknown", {}, None, CONFIG) == []


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("needs_clearance", ["staff_clearance_needed"]),
        ("blocked", ["staff_treatment_blocked"]),
        ("local", []),
        ("clear", []),
    ],
)
def test_staff_hear_when_screening_holds_or_blocks_treatment(outcome, expected):
    data = {
        "intake_id": "in-1", "referral_id": "ref-1", "patient_id": "pat-1", "location_id": "loc-1",
        "screening": {"outcome": outcome, "reasons": [{"rule_id": "cancer", "label": "Cancer"}]},
    }  # fmt: skip
    planned = plan_notifications("intake.completed", data, None, CONFIG)
    assert [n.template for n in planned] == expected


def test_a_same_day_cancellation_by_the_clinic_is_urgent_and_texts_the_patient():
    now = datetime(2025, 6, 10, 7, 0, tzinfo=NY)
    data = session(datetime(2025, 6, 10, 16, 0, tzinfo=NY), cancelled_by="clinic")
    planned = by_target(plan_notifications("session.cancelled", data, ALL_OK, CONFIG, now=now))
    assert set(planned) == {("patient", "email"), ("patient", "sms")}
    assert planned["patient", "sms"].urgent
    assert send_at(planned["patient", "sms"], now, CONFIG) == now.astimezone(UTC)


def test_a_cancellation_days_ahead_waits_for_morning():
    now = datetime(2025, 6, 10, 22, 0, tzinfo=NY)
    data = session(datetime(2025, 6, 13, 16, 0, tzinfo=NY), cancelled_by="clinic")
    email = by_target(plan_notifications("session.cancelled", data, ALL_OK, CONFIG, now=now))[
        "patient", "email"
    ]
    assert not email.urgent
    assert send_at(email, now, CONFIG) == datetime(2025, 6, 11, 8, 0, tzinfo=NY).astimezone(UTC)


def test_a_late_night_cancellation_of_an_early_session_is_short_notice():
    now = datetime(2025, 6, 10, 23, 0, tzinfo=NY)
    data = session(datetime(2025, 6, 11, 8, 30, tzinfo=NY), cancelled_by="clinic")
    planned = plan_notifications("session.cancelled", data, ALL_OK, CONFIG, now=now)
    assert all(n.urgent for n in planned)


def test_a_patient_cancellation_tells_staff_and_confirms_to_the_patient_by_email_only():
    data = session(datetime(2025, 6, 13, 16, 0, tzinfo=NY), cancelled_by="patient")
    planned = plan_notifications(
        "session.cancelled", data, ALL_OK, CONFIG, now=datetime(2025, 6, 1, tzinfo=UTC)
    )
    assert {(n.audience, n.channel, n.template) for n in planned} == {
        ("patient", "email", "patient_session_cancelled"),
        ("staff", "email", "staff_patient_cancelled"),
    }
    staff = next(n for n in planned if n.audience == "staff")
    assert not staff.quiet_hours and staff.recipient_key == "staff:loc-1"


def test_staff_hear_of_bookings_the_patient_made():
    data = session(datetime(2025, 6, 13, 16, 0, tzinfo=NY), booked_by="patient")
    now = datetime(2025, 6, 1, tzinfo=UTC)
    templates = {
        n.template for n in plan_notifications("session.scheduled", data, ALL_OK, CONFIG, now=now)
    }
    assert templates == {"patient_session_confirmed", "staff_session_booked"}
    data["booked_by"] = "staff"
    templates = {
        n.template for n in plan_notifications("session.scheduled", data, ALL_OK, CONFIG, now=now)
    }
    assert templates == {"patient_session_confirmed"}


def test_a_session_entered_after_it_took_place_is_not_confirmed_to_the_patient():
    data = session(datetime(2025, 6, 13, 16, 0, tzinfo=NY))
    after = datetime(2025, 6, 14, tzinfo=UTC)
    before = datetime(2025, 6, 12, tzinfo=UTC)
    assert not plan_notifications("session.scheduled", data, ALL_OK, CONFIG, now=after)
    assert plan_notifications("session.scheduled", data, ALL_OK, CONFIG, now=before)


def test_a_due_reminder_goes_out_only_on_its_own_channel():
    data = {
        **session(datetime(2025, 6, 13, 16, 0, tzinfo=NY)),
        "offset_key": "sms-2h",
        "channel": "sms",
    }
    planned = plan_notifications(
        REMINDER_DUE, data, ALL_OK, CONFIG, now=datetime(2025, 6, 13, 18, 0, tzinfo=UTC)
    )
    assert [(n.channel, n.template) for n in planned] == [("sms", "patient_session_reminder")]


@pytest.mark.parametrize(
    ("every", "completed", "due"),
    [
        (None, 4, True),
        (None, 5, False),
        (None, 8, True),
        (None, 0, False),
        (3, 3, True),
        (3, 4, False),
    ],
)
def test_progress_reports_go_to_the_referrer_every_n_completed_sessions(every, completed, due):
    config = {**CONFIG, **({"progress_report_every_sessions": every} if every else {})}
    data = {
        "plan_id": "plan-1", "patient_id": "pat-1", "sessions_completed": completed,
        "referrer": {"name": "Dr. Lee", "email": "lee@practice.example"}, "measures": [],
    }  # fmt: skip
    planned = plan_notifications("progress.updated", data, None, config)
    assert [n.template for n in planned] == (["referrer_progress_report"] if due else [])


def test_discharge_always_reports_to_the_referrer():
    data = {
        "plan_id": "p",
        "patient_id": "x",
        "referrer": {"email": "lee@practice.example"},
        "measures": [],
        "sessions_completed": 7,
    }
    assert [n.template for n in plan_notifications("plan.completed", data, None, CONFIG)] == [
        "referrer_discharge_report"
    ]


def test_referral_expiry_goes_to_the_tenant_wide_staff_inbox():
    data = {"referral_id": "ref-1", "patient_id": "pat-1", "kind": "visits", "remaining": 2}
    [notification] = plan_notifications("referral.expiring", data, None, CONFIG)
    assert (notification.recipient_key, notification.address) == (
        "staff:all",
        "office@clinic.example",
    )
    [expired] = plan_notifications("referral.expired", data, None, CONFIG)
    assert expired.template == "staff_referral_expired"


def test_staff_hear_of_failed_deliveries_but_never_of_a_failed_failure_report():
    failure = {
        "recipient_key": "patient:pat-1",
        "channel": "sms",
        "template": "patient_session_reminder",
        "reason": "HTTP 400",
    }
    assert [n.template for n in plan_notifications(DELIVERY_FAILED, failure, None, CONFIG)] == [
        "staff_delivery_failed"
    ]
    loop = {**failure, "template": "staff_delivery_failed"}
    assert plan_notifications(DELIVERY_FAILED, loop, None, CONFIG) == []


def test_language_comes_from_prefs_then_the_event_then_the_tenant():
    data = referral_accepted()
    prefs = {**ALL_OK, "language": "fr"}
    languages = {
        n.audience: n.language
        for n in plan_notifications("referral.accepted", data, prefs, {**CONFIG, "language": "de"})
    }
    assert languages["patient"] == "fr" and languages["referrer"] == "de"
    data["patient"]["language"] = None
    assert plan_notifications("referral.accepted", data, None, CONFIG)[0].language == "en"


def test_delivery_keys_are_stable_distinct_per_channel_and_carry_no_address():
    key = delivery_key("intake", "evt-1", "referrer:lee@practice.example", "email")
    assert key == delivery_key("intake", "evt-1", "referrer:lee@practice.example", "email")
    assert key != delivery_key("intake", "evt-1", "referrer:lee@practice.example", "sms")
    assert key != delivery_key("planning", "evt-1", "referrer:lee@practice.example", "email")
    assert "lee" not in key and len(key) == 64


def test_every_patient_rule_needs_consent_and_keeps_quiet_hours():
    patient_rules = [rule for rule in load_rules() if rule.audience == "patient"]
    assert patient_rules and all(r.needs_consent and r.quiet_hours for r in patient_rules)


def test_tenant_config_is_read_from_a_stored_document():
    config = TenantConfig.from_mapping({
        "quiet_hours": {"start": "20:00", "end": "09:00"},
        "reminders": [{"key": "email-3d", "channel": "email", "minutes_before": 4320}],
        "progress_report_every_sessions": 6,
        "timezone": "Europe/Berlin",
    })  # fmt: skip
    assert config.quiet_hours == QuietHours.parse("20:00", "09:00")
    assert [(o.key, o.before) for o in config.reminder_offsets] == [("email-3d", timedelta(days=3))]
    assert config.progress_report_every == 6
    assert TenantConfig.from_mapping({"quiet_hours": None}).quiet_hours.enabled is False
    for bad in (
        {"key": "x", "channel": "fax", "minutes_before": 60},
        {"key": "x", "channel": "sms", "minutes_before": 0},
    ):
        with pytest.raises(ValueError, match="reminders"):
            TenantConfig.from_mapping({"reminders": [bad]})
    with pytest.raises(Exception, match="Mars"):
        TenantConfig.from_mapping({"timezone": "Mars/Olympus"})


def test_prefs_accept_a_stored_document():
    prefs = PatientPrefs.from_mapping({"email_ok": True, "opted_out_channels": ["sms"]})
    assert prefs.allows("email") and not prefs.allows("sms") and not prefs.allows("webhook")


def test_phone_numbers_are_normalised_to_e164_or_refused():
    assert normalize_phone("+49 30 901820", "US") == "+4930901820"
    assert normalize_phone("(212) 555-0142", "US") == "+12125550142"
    assert normalize_phone("not a number") is None and normalize_phone(None) is None
