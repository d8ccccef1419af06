"""Letters a prescriber can use: their own referral id and the patient's name and date of birth in
the body, "Dr. Chen" when a prefix came with the name, the clinic's own name, one reason per
line; never the clinic's internal ids, never a diagnosis in a subject line."""

from __future__ import annotations

import re

import pytest

from services.notifications.domain.contacts import contact_update
from services.notifications.domain.referrer_letters import clinic_name_of, letter_context
from services.notifications.domain.rules import Notification
from services.notifications.domain.template_filters import salutation
from services.notifications.domain.templates import TemplateRenderer, render_notification

REFERRER = {
    "name": "David Chen",
    "email": "d.chen@clinic.example.org",
    "phone": None,
    "organization": None,
    "prefix": "Dr.",
    "family_name": "Chen",
}
PATIENT = {
    "given_name": "Maria Elena",
    "family_name": "Alvarez",
    "email": "maria.alvarez@example.com",
    "phone": "+16175550134",
    "language": "es",
    "birth_date": "1978-04-12",
}
IDS = {
    "referral_id": "ref_0123456789abcdef0123",
    "patient_id": "pat_0123456789abcdef0123",
    "location_id": "main",
}
ACCEPTED = {
    **IDS,
    "partner_id": "acme-ehr",
    "partner_referral_id": "REF-2026-10-4471",
    "diagnoses": [{"code": "M54.50", "display": "Low back pain, unspecified"}],
    "referrer": REFERRER,
    "patient": PATIENT,
    "consent": {"email": True, "sms": False},
    "clinic_name": "Northside Massage",
}
PLAN = {
    **IDS,
    "plan_id": "pln_0123456789abcdef0123",
    "referrer": {"name": "David Chen", "email": REFERRER["email"]},
}
MEASURES = [
    {"measure": "NPRS", "baseline": 7, "latest": 4, "change": -3, "clinically_improved": True}
]
PLANNING = {
    "plan.activated": (
        "referrer_plan_summary",
        {
            **PLAN,
            "summary": {
                "techniques": ["myofascial release"],
                "planned_sessions": 8,
                "frequency_per_week": 2,
                "goals": [{"measure": "NPRS", "baseline": 7, "target": 4}],
            },
        },
    ),
    "progress.updated": (
        "referrer_progress_report",
        {**PLAN, "sessions_completed": 4, "measures": MEASURES, "newly_improved": ["NPRS"]},
    ),
    "plan.completed": (
        "referrer_discharge_report",
        {**PLAN, "sessions_completed": 8, "measures": MEASURES, "reason": "goals met"},
    ),
}
INTERNAL_IDS = re.compile(r"\b(ref|pln|pat|ses|int)_[0-9a-f]{6,}")


def letter(event_type: str, template: str, data: dict, contact: dict | None = None):
    notification = Notification(event_type, "referrer", "referrer:x", "email", template)
    return render_notification(
        TemplateRenderer(),
        notification,
        data,
        tenant_id="northside",
        clinic_name=clinic_name_of("", data, contact, "northside"),
        **letter_context(data, contact),
    )


def directory_after(*events: tuple[str, dict]) -> dict:
    """The contact directory's entry after intake's events (as the repository applies them)."""
    contact: dict = {}
    for event_type, data in events:
        for key, value in (contact_update(event_type, data, "US") or {}).items():
            if key.startswith("referrals."):
                contact.setdefault("referrals", {})[key.split(".", 1)[1]] = value
            else:
                contact[key] = value
    return contact


def test_the_acceptance_names_the_prescribers_referral_and_the_patient_and_greets_dr_chen():
    message = letter("referral.accepted", "referrer_referral_accepted", ACCEPTED)
    assert message.subject == "Referral REF-2026-10-4471 accepted by Northside Massage"
    assert message.text.startswith("Dear Dr. Chen,\n")
    assert "Your referral: REF-2026-10-4471" in message.text
    assert "Patient: Maria Elena Alvarez, born April 12, 1978" in message.text
    assert not INTERNAL_IDS.search(message.subject + message.text)
    assert "M54" not in message.subject and "back pain" not in message.subject.lower()


def test_the_rejection_puts_each_reason_on_its_own_line():
    data = {
        "partner_id": "acme-ehr",
        "partner_referral_id": "REF-9",
        "referrer": REFERRER,
        "patient": {"given_name": "Maria", "family_name": "Alvarez", "birth_date": "1978-04-12"},
        "clinic_name": "Northside Massage",
        "reasons": [
            {"field": "Condition[0].code", "message": "'X99.99' is not a billable ICD-10-CM code"},
            {"field": "expires_on", "message": "the referral expired on 2026-01-31"},
        ],
    }
    message = letter("referral.rejected", "referrer_referral_rejected", data)
    lines = message.text.splitlines()
    assert "  - 'X99.99' is not a billable ICD-10-CM code (Condition[0].code)" in lines
    assert "  - the referral expired on 2026-01-31 (expires_on)" in lines
    assert message.subject == "Referral REF-9 could not be accepted"
    assert "Patient: Maria Alvarez, born April 12, 1978" in lines
    assert message.text.startswith("Dear Dr. Chen,\n")


@pytest.mark.parametrize("event_type", PLANNING)
def test_planning_letters_name_the_prescribers_referral_and_patient_from_the_directory(event_type):
    template, data = PLANNING[event_type]
    contact = directory_after(("referral.accepted", ACCEPTED))
    message = letter(event_type, template, data, contact)
    assert "REF-2026-10-4471" in message.subject
    assert "Your referral: REF-2026-10-4471" in message.text
    assert "Patient: Maria Elena Alvarez, born April 12, 1978" in message.text
    assert message.text.startswith("Dear Dr. Chen,\n")
    assert message.text.rstrip().endswith("Northside Massage")
    assert not INTERNAL_IDS.search(message.subject + message.text)
    assert "NPRS" not in message.subject


def test_a_planning_letter_without_directory_facts_still_reads_well_and_shows_no_ids():
    template, data = PLANNING["plan.activated"]
    message = letter("plan.activated", template, data, None)
    assert message.subject == "Plan of care for your referral"
    assert message.text.startswith("Dear David Chen,\n")
    assert "None" not in message.text and not INTERNAL_IDS.search(message.text)


def test_an_amended_prescriber_is_never_greeted_with_the_previous_ones_name():
    contact = directory_after(("referral.accepted", ACCEPTED))
    other = {
        **PLANNING["plan.activated"][1],
        "referrer": {"name": "Ana Ruiz", "email": "a@x.example"},
    }
    assert letter_context(other, contact)["referrer"] == {
        "name": "Ana Ruiz",
        "email": "a@x.example",
    }
    amended = {
        **ACCEPTED,
        "referrer": {**REFERRER, "name": "Ana Ruiz", "prefix": None, "family_name": None},
    }
    contact = directory_after(("referral.accepted", ACCEPTED), ("referral.amended", amended))
    assert salutation(letter_context(other, contact)["referrer"]) == "Ana Ruiz"


def test_the_clinic_is_named_as_configured_else_as_intake_names_it_else_by_its_id():
    contact = {"clinic_name": "Northside Massage"}
    assert clinic_name_of("Calm Hands", {"clinic_name": "X"}, contact, "t") == "Calm Hands"
    assert clinic_name_of("", {"clinic_name": "Northside"}, None, "t") == "Northside"
    assert clinic_name_of("", {}, contact, "t") == "Northside Massage"
    assert clinic_name_of("", {}, None, "northside") == "northside"


def test_the_greeting_uses_the_prefix_with_the_family_name_or_the_name_as_sent():
    assert salutation({"name": "David Chen", "prefix": "Dr.", "family_name": "Chen"}) == "Dr. Chen"
    assert salutation({"name": "David Chen", "prefix": "Dr."}) == "Dr. David Chen"
    assert salutation({"name": "David Chen"}) == "David Chen"
    assert salutation(None) == "colleague"
