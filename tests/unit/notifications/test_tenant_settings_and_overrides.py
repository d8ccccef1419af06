import pytest

from services.notifications.channels.backoff import DEFAULT_POLICY
from services.notifications.domain.samples import SAMPLES
from services.notifications.domain.template_check import (
    OverrideRefused,
    check_override,
    parse_name,
)
from services.notifications.domain.templates import TEMPLATE_DIR
from services.notifications.repository.tenant_configs import tenant_settings


def test_settings_come_from_the_stored_document_with_defaults_for_the_rest():
    settings = tenant_settings(
        "clinic-1",
        {
            "clinic_name": "Calm Hands",
            "quiet_hours": None,
            "reminders": [{"key": "sms-1h", "channel": "sms", "minutes_before": 0.5}],
            "partner_webhooks": {
                "p-1": {"url": "https://p.example/h", "secret": "s" * 16},
                "p-2": {"url": "https://q.example/h"},
            },
            "retry": {"max_attempts": 2, "first_delay_s": 0.5},
        },
        {"loc-1": "Europe/Berlin", "loc-2": "Not/AZone"},
    )
    assert settings.clinic_name == "Calm Hands"
    assert not settings.rules.quiet_hours.enabled
    assert settings.rules.reminder_offsets[0].before.total_seconds() == 30
    assert settings.rules.partner_webhooks == {
        "p-1": "https://p.example/h", "p-2": "https://q.example/h",
    }  # fmt: skip
    assert settings.webhook_secrets == {"p-1": "s" * 16}
    assert settings.rules.location_timezones == {"loc-1": "Europe/Berlin"}  # a bad zone skipped
    assert (settings.retry.max_attempts, settings.retry.first_delay_s) == (2, 0.5)
    assert settings.retry.max_delay_s == DEFAULT_POLICY.max_delay_s


def test_a_tenant_without_settings_gets_the_defaults_and_no_display_name_of_its_own():
    settings = tenant_settings("clinic-1", None)  # intake's name for the clinic is used instead
    assert settings.clinic_name == "" and settings.retry == DEFAULT_POLICY
    assert settings.rules.quiet_hours.enabled


def test_every_built_in_template_has_a_sample_to_check_overrides_against():
    names = {path.name.split(".")[0] for path in TEMPLATE_DIR.glob("*/*.j2")}
    assert names == set(SAMPLES)


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("patient_welcome.email", ("patient_welcome", "email", False)),
        ("patient_welcome.email.html", ("patient_welcome", "email", True)),
        ("partner_referral_status.webhook", ("partner_referral_status", "webhook", False)),
    ],
)
def test_override_names_are_template_and_channel(name, parsed):
    assert parse_name(name) == parsed


@pytest.mark.parametrize(
    "name", ["patient_unknown.sms", "patient_welcome.fax", "patient_welcome.sms.html", "../x.sms"]
)
def test_unknown_override_names_are_refused(name):
    with pytest.raises(OverrideRefused):
        parse_name(name)


def test_a_safe_override_passes_and_one_showing_a_diagnosis_to_a_patient_does_not():
    check_override("t1", "es", "patient_welcome.sms", "Hola {{ recipient_name }}. STOP para salir")
    with pytest.raises(OverrideRefused, match="may not use diagnoses"):
        check_override("t1", "en", "patient_welcome.email.html", "<p>{{ diagnoses }}</p>")
    with pytest.raises(OverrideRefused, match="clinical detail"):  # written out: the guard
        check_override("t1", "en", "patient_welcome.sms", "Your fibromyalgia care. STOP")
    check_override("t1", "en", "referrer_progress_report.email", "Subject: {{ measures }}\n\nok")


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("Your score: {{ measures[0].baseline }}. STOP", "measures"),  # no term list catches 42
        ("{% for r in screening.reasons %}{{ r.label }}{% endfor %} STOP", "screening"),
        ("{{ notes | default('') }}{{ body_sites | default('') }} STOP", "body_sites, notes"),
    ],
)
def test_a_patient_override_naming_a_field_outside_the_allow_list_is_refused_naming_it(
    source, named
):
    with pytest.raises(OverrideRefused, match=f"may not use {named}:"):
        check_override("t1", "en", "patient_session_reminder.sms", source)


def test_a_patient_override_may_use_every_allow_listed_field_its_event_carries():
    source = (
        "{{ clinic_name }}: {{ recipient_name }}, {{ starts_at | local_datetime(location_tz) }}, "
        "{{ duration_minutes }} min at {{ location_name }}, room {{ room_id }}"
        "{% for i in range(1) %}{{ loop.index }}{% endfor %}. Reply STOP"
    )
    check_override("t1", "en", "patient_session_confirmed.sms", source)
