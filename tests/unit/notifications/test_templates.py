import json

import pytest

from services.notifications.domain.failure_digest import digest_data
from services.notifications.domain.patient_context import PATIENT_FIELDS, patient_context
from services.notifications.domain.phi_guard import (
    PhiLeak,
    assert_patient_safe,
    clinical_terms,
    find_leaks,
)
from services.notifications.domain.rules import Notification, load_rules
from services.notifications.domain.templates import (
    SMS_MAX_CHARS,
    TEMPLATE_DIR,
    TemplateError,
    TemplateRenderer,
    build_context,
    language_chain,
    render_notification,
)

PATIENT_LANGUAGES = ("en", "es")
CLINICAL = {
    "diagnoses": [
        {"code": "M79.7", "display": "Fibromyalgia"},
        {"code": "M54.2", "display": "Cervicalgia"},
        {"code": "G44.209", "display": "Tension-type headache, unspecified"},
    ],
    "screening": {
        "outcome": "needs_clearance",
        "reasons": ["Known DVT in left calf", "Cancer under treatment"],
    },
    "measures": [
        {
            "measure": "Oswestry",
            "baseline": 42,
            "latest": 30,
            "change": -12,
            "clinically_improved": True,
        }
    ],
}
SESSION = {
    "session_id": "ses-1", "plan_id": "plan-1", "patient_id": "pat-1", "location_id": "loc-1",
    "therapist_id": "th-1", "starts_at": "2025-06-12T14:00:00Z", "duration_minutes": 60,
    "location_tz": "America/New_York", "location_name": "Downtown Studio",
}  # fmt: skip
REFERRAL = {
    "referral_id": "ref-1",
    "patient_id": "pat-1",
    "location_id": "loc-1",
    "partner_id": "partner-9",
    "referrer": {"name": "Dr. Ada Lee", "email": "lee@practice.example", "phone": None},
    "patient": {
        "given_name": "Maria",
        "family_name": "Lopez",
        "email": "m@example.org",
        "phone": "+12125550142",
        "language": "es",
    },
    "consent": {"email": True, "sms": True},
    "intake_link": "https://clinic.example/intake/Qm54.2xT-M79?t=S13.4XXA",
}
PATIENT_SAMPLES = {
    "patient_welcome": ("referral.accepted", REFERRAL),
    "patient_session_confirmed": ("session.scheduled", SESSION),
    "patient_session_rescheduled": ("session.rescheduled", SESSION),
    "patient_session_cancelled": ("session.cancelled", {**SESSION, "cancelled_by": "clinic"}),
    "patient_session_reminder": (
        "session.reminder_due",
        {**SESSION, "offset_key": "sms-2h", "channel": "sms"},
    ),
}
EXTRAS = {"clinic_name": "Calm Hands Massage", "unsubscribe_url": "https://clinic.example/u/abc"}
FAILED_SMS = {
    "recipient_key": "patient:pat-1", "channel": "sms", "template": "patient_session_reminder",
    "reason": "SMS provider refused the request (HTTP 400)", "attempts": 1,
    "failed_event_type": "session.reminder_due",
}  # fmt: skip


def builtin_files(language: str) -> set[str]:
    return {path.name for path in (TEMPLATE_DIR / language).glob("*.j2")}


def patient_template_files() -> list[tuple[str, str]]:
    return sorted(
        (lang, name)
        for lang in PATIENT_LANGUAGES
        for name in builtin_files(lang)
        if name.startswith("patient_")
    )


def data_for(template: str, *, cancelled_by: str = "clinic") -> tuple[str, dict]:
    """(event type, data) of a patient template's sample event, with clinical detail in it."""
    event_type, data = PATIENT_SAMPLES[template]
    data = {**data, **CLINICAL}
    if "cancelled_by" in data:
        data["cancelled_by"] = cancelled_by
    return event_type, data


def context_for(template: str, *, cancelled_by: str = "clinic", **extras):
    event_type, data = data_for(template, cancelled_by=cancelled_by)
    return patient_context(event_type, data, **{**EXTRAS, **extras})


def patient(template: str, channel: str, language: str) -> Notification:
    event_type, _ = PATIENT_SAMPLES[template]
    return Notification(
        event_type, "patient", "patient:pat-1", channel, template, language=language
    )


def render_patient(renderer, template, channel, language="en", *, cancelled_by="clinic", **extras):
    _, data = data_for(template, cancelled_by=cancelled_by)
    return render_notification(
        renderer, patient(template, channel, language), data,
        tenant_id="t1", **{**EXTRAS, **extras},
    )  # fmt: skip


def test_every_template_the_rules_name_exists_and_patient_ones_in_every_patient_language():
    for rule in load_rules():
        languages = PATIENT_LANGUAGES if rule.audience == "patient" else ("en",)
        for channel in rule.channels:
            for language in languages:
                assert f"{rule.template}.{channel}.j2" in builtin_files(language), (rule, language)


def test_the_patient_templates_under_test_are_all_there_are():
    names = {name.split(".")[0] for _, name in patient_template_files()}
    assert names == set(PATIENT_SAMPLES)
    assert builtin_files("en") >= builtin_files("es")


@pytest.mark.parametrize(("language", "file"), patient_template_files())
def test_every_patient_template_renders_without_clinical_detail(language, file):
    template, channel = file.split(".")[:2]
    renderer = TemplateRenderer()
    for cancelled_by in ("clinic", "patient"):
        _, data = data_for(template, cancelled_by=cancelled_by)
        message = render_patient(renderer, template, channel, language, cancelled_by=cancelled_by)
        for part in (message.subject, message.text, message.html):
            if part:
                assert_patient_safe(part, clinical_terms(data))  # on top of render_notification
                assert "pat-1" not in part  # internal ids are not for patients either
        if channel == "sms":
            assert len(message.text) <= SMS_MAX_CHARS and "STOP" in message.text
        if channel == "email":
            assert message.subject and EXTRAS["unsubscribe_url"] in message.text


def test_spanish_patients_get_spanish_and_english_patients_english():
    renderer = TemplateRenderer()
    es = render_patient(renderer, "patient_session_reminder", "email", "es")
    en = render_patient(renderer, "patient_session_reminder", "email", "en")
    assert (
        es.subject.startswith("Recordatorio")
        and "jueves 12 de junio de 2025, 10:00 (EDT)" in es.text
    )
    assert (
        en.subject.startswith("Reminder") and "Thursday, June 12, 2025 at 10:00 AM EDT" in en.text
    )


def test_local_times_are_shown_in_the_location_time_zone():
    renderer = TemplateRenderer()
    for tz, expected in (
        ("Asia/Tokyo", "Thu Jun 12, 11:00 PM JST"),
        ("Australia/Sydney", "Fri Jun 13, 12:00 AM AEST"),
        ("Europe/Berlin", "Thu Jun 12, 4:00 PM CEST"),
    ):
        context = context_for("patient_session_confirmed", location_tz=tz)
        assert expected in renderer.render("patient_session_confirmed", "sms", context).text


def test_a_missing_language_falls_back_to_english():
    renderer = TemplateRenderer()
    message = renderer.render(
        "patient_session_confirmed",
        "email",
        context_for("patient_session_confirmed"),
        language="fr-CA",
    )
    assert message.subject == "Your appointment at Calm Hands Massage is confirmed"
    assert language_chain("es-MX") == ["es-mx", "es", "en"]
    assert language_chain("../../etc") == ["en"]


def test_a_regional_language_uses_its_primary_language():
    message = TemplateRenderer().render(
        "patient_welcome", "sms", context_for("patient_welcome"), language="es-MX"
    )
    assert "Responda STOP" in message.text


def test_a_tenant_override_wins_for_that_tenant_only():
    overrides = {
        (
            "t1",
            "en",
            "patient_session_reminder.sms.j2",
        ): "{{ clinic_name }}: see you {{ starts_at | local_datetime(location_tz, 'short') }}! Text STOP to stop."
    }
    renderer = TemplateRenderer(overrides)
    context = context_for("patient_session_reminder")
    assert renderer.render(
        "patient_session_reminder", "sms", context, tenant_id="t1"
    ).text.startswith("Calm Hands Massage: see you Thu Jun 12")
    assert (
        "reminder: your appointment"
        in renderer.render("patient_session_reminder", "sms", context, tenant_id="t2").text
    )


def test_override_lookup_order_is_tenant_language_then_builtin_language_then_english():
    overrides = {
        ("t1", "en", "patient_welcome.sms.j2"): "EN override {{ clinic_name }} STOP",
        ("t1", "es", "patient_session_reminder.sms.j2"): "ES override {{ clinic_name }} STOP",
    }
    renderer = TemplateRenderer(overrides)

    def sms(template, language):
        return renderer.render(
            template, "sms", context_for(template), language=language, tenant_id="t1"
        ).text

    assert sms("patient_session_reminder", "es") == "ES override Calm Hands Massage STOP"
    assert sms("patient_welcome", "es").startswith(
        "Calm Hands Massage: ¡bienvenido/a"
    )  # built-in es beats en override
    assert (
        sms("patient_welcome", "fr") == "EN override Calm Hands Massage STOP"
    )  # no fr at all: tenant's en


def test_an_override_added_or_removed_later_is_picked_up_without_a_restart():
    overrides: dict = {}
    renderer = TemplateRenderer(overrides)
    context = context_for("patient_welcome")
    builtin = renderer.render("patient_welcome", "sms", context, tenant_id="t1").text
    overrides[("t1", "en", "patient_welcome.sms.j2")] = "new STOP"
    assert renderer.render("patient_welcome", "sms", context, tenant_id="t1").text == "new STOP"
    overrides.clear()
    assert renderer.render("patient_welcome", "sms", context, tenant_id="t1").text == builtin


def test_a_changed_override_is_picked_up_without_a_restart():
    overrides = {("t1", "en", "patient_welcome.sms.j2"): "first STOP"}
    renderer = TemplateRenderer(overrides)
    assert (
        renderer.render(
            "patient_welcome", "sms", context_for("patient_welcome"), tenant_id="t1"
        ).text
        == "first STOP"
    )
    overrides[("t1", "en", "patient_welcome.sms.j2")] = "second STOP"
    assert (
        renderer.render(
            "patient_welcome", "sms", context_for("patient_welcome"), tenant_id="t1"
        ).text
        == "second STOP"
    )


@pytest.mark.parametrize(
    "field", ["diagnoses[0].display", "screening.reasons[0]", "measures[0].baseline", "body_sites"]
)
def test_an_override_naming_a_clinical_field_renders_an_error_not_the_field(field):
    source = f"Subject: About your {{{{ {field} }}}}\n\nSee you. {{{{ unsubscribe_url }}}}"
    renderer = TemplateRenderer({("t1", "en", "patient_session_reminder.email.j2"): source})
    _, data = data_for("patient_session_reminder")
    data["body_sites"] = ["neck"]  # clinical, though no term list names it
    with pytest.raises(TemplateError, match=f"'{field.split('[')[0].split('.')[0]}' is undefined"):
        render_patient(renderer, "patient_session_reminder", "email")


def test_a_patient_template_sees_only_the_allow_listed_fields_and_only_plain_values():
    event_type, data = data_for("patient_welcome")
    data = {
        **data, "notes": "prefers light pressure", "medications": ["warfarin"],
        "goals": [{"measure": "NPRS"}], "location_name": {"smuggled": "Cervicalgia"},
    }  # fmt: skip
    context = patient_context(event_type, data, clinic_name="Calm Hands", unsubscribe_url="u")
    assert set(context) <= set(PATIENT_FIELDS)
    assert context == {
        "recipient_name": "Maria", "clinic_name": "Calm Hands", "event_type": event_type,
        "intake_link": REFERRAL["intake_link"], "unsubscribe_url": "u",
    }  # fmt: skip


def test_overrides_run_in_a_sandbox():
    overrides = {
        (
            "t1",
            "en",
            "patient_welcome.sms.j2",
        ): "{{ ''.__class__.__mro__[1].__subclasses__() }} STOP"
    }
    with pytest.raises(TemplateError):
        TemplateRenderer(overrides).render(
            "patient_welcome", "sms", context_for("patient_welcome"), tenant_id="t1"
        )


def test_undefined_names_fail_loudly():
    context = context_for("patient_welcome")
    del context["unsubscribe_url"]
    with pytest.raises(TemplateError, match="unsubscribe_url"):
        TemplateRenderer().render("patient_welcome", "email", context)


@pytest.mark.parametrize(
    ("source", "problem"),
    [("x" * 330 + " STOP", "more than 320"), ("Hello, no opt-out here", "STOP")],
)
def test_sms_must_be_short_and_say_how_to_opt_out(source, problem):
    renderer = TemplateRenderer({("t1", "en", "patient_welcome.sms.j2"): source})
    with pytest.raises(TemplateError, match=problem):
        renderer.render("patient_welcome", "sms", context_for("patient_welcome"), tenant_id="t1")


def test_emails_need_a_subject_line():
    renderer = TemplateRenderer({("t1", "en", "patient_welcome.email.j2"): "Hello without subject"})
    with pytest.raises(TemplateError, match="Subject"):
        renderer.render("patient_welcome", "email", context_for("patient_welcome"), tenant_id="t1")


def test_html_bodies_are_autoescaped_and_text_bodies_are_not():
    context = context_for("patient_welcome", recipient_name="<b>Maria & Co</b>")
    message = TemplateRenderer().render("patient_welcome", "email", context)
    assert "&lt;b&gt;Maria &amp; Co&lt;/b&gt;" in message.html
    assert "<b>Maria & Co</b>" in message.text


def test_reports_to_referrers_may_carry_clinical_detail():
    data = {
        "plan_id": "plan-1",
        "patient_id": "pat-1",
        "sessions_completed": 4,
        "referrer": {"name": "Dr. Ada Lee", "email": "lee@practice.example"},
        "measures": [
            {
                "measure": "NPRS",
                "baseline": 7,
                "latest": 3,
                "change": -4,
                "clinically_improved": True,
            },
            {
                "measure": "Oswestry Disability Index",
                "baseline": 40.0,
                "latest": 34.5,
                "change": -5.5,
                "clinically_improved": False,
            },
        ],
    }
    referrer = Notification(
        "progress.updated",
        "referrer",
        "referrer:lee@practice.example",
        "email",
        "referrer_progress_report",
    )
    message = render_notification(TemplateRenderer(), referrer, data, tenant_id="t1", **EXTRAS)
    rows = [
        line.split() for line in message.text.splitlines() if line.startswith(("NPRS", "Oswestry"))
    ]
    assert rows[0] == ["NPRS", "7", "->", "3", "-4", "yes"]
    assert rows[1][-5:] == ["40", "->", "34.5", "-5.5", "no"]
    assert message.subject == "Progress report for your referral after 4 sessions"
    assert "plan-1" not in message.text  # never the clinic's plan id


@pytest.mark.parametrize(
    "template", sorted({r.template for r in load_rules() if r.audience in ("referrer", "staff")})
)
def test_every_referrer_and_staff_template_renders_from_its_event(template):
    samples = {
        "referrer_referral_accepted": REFERRAL,
        "referrer_referral_rejected": {
            "partner_id": "p",
            "partner_referral_id": "P-77",
            "referrer": {"name": None, "email": "x@y.example"},
            "reasons": ["missing diagnosis", "expired"],
        },
        "referrer_plan_summary": {
            "plan_id": "plan-1",
            "patient_id": "pat-1",
            "referral_id": "ref-1",
            "referrer": {"name": "Dr. Lee", "email": "x@y.example"},
            "summary": {
                "techniques": ["myofascial release", "trigger point"],
                "planned_sessions": 8,
                "goals": [{"measure": "NPRS", "baseline": 7, "target": 3}],
            },
        },
        "referrer_progress_report": {
            "plan_id": "p",
            "referrer": {"name": "Dr. Lee"},
            "sessions_completed": 4,
            "measures": CLINICAL["measures"],
        },
        "referrer_discharge_report": {
            "plan_id": "p",
            "referrer": {"name": "Dr. Lee"},
            "sessions_completed": 8,
            "measures": CLINICAL["measures"],
            "reason": "goals met",
        },
        "staff_new_referral": REFERRAL,
        "staff_clearance_needed": {
            "intake_id": "in-1",
            "referral_id": "ref-1",
            "patient_id": "pat-1",
            "location_id": "loc-1",
            "screening": CLINICAL["screening"],
        },
        "staff_treatment_blocked": {
            "intake_id": "in-1",
            "referral_id": "ref-1",
            "patient_id": "pat-1",
            "location_id": "loc-1",
            "screening": {**CLINICAL["screening"], "outcome": "blocked"},
        },
        "staff_referral_expiring": {
            "referral_id": "ref-1",
            "patient_id": "pat-1",
            "kind": "days",
            "remaining": 1,
        },
        "staff_referral_expired": {"referral_id": "ref-1", "patient_id": "pat-1"},
        "staff_patient_cancelled": {**SESSION, "cancelled_by": "patient"},
        "staff_session_booked": {**SESSION, "booked_by": "patient"},
        "staff_delivery_failed": digest_data([{"data": FAILED_SMS}]),
    }
    message = TemplateRenderer().render(
        template, "email", build_context("e", samples[template], **EXTRAS)
    )
    assert message.subject and message.text.strip()
    assert "None" not in message.text


def test_clearance_needed_says_so_plainly():
    data = {
        "intake_id": "in-1",
        "referral_id": "ref-1",
        "patient_id": "pat-1",
        "location_id": "loc-1",
        "screening": CLINICAL["screening"],
    }
    message = TemplateRenderer().render(
        "staff_clearance_needed", "email", build_context("intake.completed", data, **EXTRAS)
    )
    assert "Clearance needed" in message.subject and "Clearance needed" in message.text


def test_partner_webhooks_are_json_with_the_referral_status():
    data = {
        "partner_id": "partner-9",
        "partner_referral_id": "P-77",
        "referrer": {"email": "x@y.example"},
        "reasons": ["missing diagnosis"],
    }
    body = (
        TemplateRenderer()
        .render(
            "partner_referral_status", "webhook", build_context("referral.rejected", data, **EXTRAS)
        )
        .text
    )
    assert json.loads(body) == {
        "event_type": "referral.rejected",
        "status": "rejected",
        "partner_id": "partner-9",
        "partner_referral_id": "P-77",
        "referral_id": None,
        "reasons": ["missing diagnosis"],
    }
    broken = TemplateRenderer({("t1", "en", "partner_referral_status.webhook.j2"): "{not json"})
    with pytest.raises(TemplateError, match="not JSON"):
        broken.render(
            "partner_referral_status",
            "webhook",
            build_context("referral.rejected", data, **EXTRAS),
            tenant_id="t1",
        )


class TestPhiGuard:
    @pytest.mark.parametrize(
        "text",
        [
            "Hello P10, welcome",  # a name
            "Unit B12, 4 Mill Lane, Manchester M54 1AA",  # an address with a UK postcode
            "Your appointment at K12 Studio, room C12",  # a clinic and a room
            "See you at S13 Bodywork, Suite G44",
        ],
    )
    def test_code_shaped_names_addresses_clinics_and_rooms_are_not_leaks(self, text):
        assert_patient_safe(text, clinical_terms({"diagnoses": [{"code": "M54.2"}]}))

    def test_the_events_own_codes_are_caught_wherever_they_appear(self):
        terms = clinical_terms(
            {"diagnoses": [{"code": "M54.50", "display": "Low back pain"}, {"code": "S13.4XXA"}]}
        )
        for text in (
            "Your visit for M54.50 is booked",
            "(s13.4xxa)",
            "https://x.example/?dx=M54.50",
        ):
            with pytest.raises(PhiLeak) as caught:
                assert_patient_safe(text, terms)
            assert {kind for kind, _ in caught.value.leaks} == {"event"}
        assert_patient_safe("Your visit for M54.5 is booked", terms)  # not the event's code

    def test_codes_inside_our_links_and_ordinary_text_are_not_codes(self):
        assert_patient_safe("Open https://clinic.example/intake/M54.2?t=S13.4XXA today at 10:30 AM")
        assert_patient_safe("Room 12, 2nd floor, Tue Jun 12, 2:30 PM EDT, 60 minutes")

    def test_condition_and_measure_words_are_caught_whatever_the_case_or_accents(self):
        for text in (
            "your FIBROMYALGIA",
            "Pain score: 7/10",
            "Oswestry result",
            "history of dvt",
            "su CANCER",
            "diagnóstico: lumbalgia",
            "su diagnostico",
        ):
            assert find_leaks(text), text

    def test_words_are_matched_whole(self):
        assert_patient_safe("Our odin room; andiamo; strategic")  # not ODI, NDI or "strain injury"

    def test_the_events_own_clinical_strings_are_forbidden(self):
        terms = clinical_terms(
            {"screening": {"reasons": ["Recent hip replacement"]}, "location_name": "Downtown"}
        )
        assert terms == ["Recent hip replacement"]
        with pytest.raises(PhiLeak) as caught:
            assert_patient_safe("About your recent hip   replacement", terms)
        assert caught.value.leaks == (("event", "Recent hip replacement"),)
        assert "event term #0" in str(caught.value) and "hip" not in str(caught.value)

    def test_an_empty_message_is_safe(self):
        assert_patient_safe("", ["", "   "])
