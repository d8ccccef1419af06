"""The contact directory's rules: what events tell us about a patient, and what a patient allows.

Session events carry no contact details, so the service keeps, per patient, what intake's
events said last (first name for the greeting, email, phone in E.164, language, consent) plus
the patient's own choices made here (opt-outs through the preferences API, the unsubscribe
link or a STOP reply). Intake's consent and the patient's choices are kept apart: a new consent
event never undoes an opt-out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .rules import PatientPrefs, normalize_phone

PATIENT_CHANNELS = ("email", "sms")

CONTACT_FIELD_OF_EVENT: Mapping[str, str | None] = {
    "referral.accepted": "patient",
    "referral.amended": "patient",
    "patient.registered": "contact",
    "patient.consent_changed": None,  # consent only
}
"""Events that update the directory, and the data field holding the contact (None: none)."""


def contact_update(
    event_type: str, data: Mapping[str, Any], phone_region: str
) -> dict[str, Any] | None:
    """The directory fields `event_type` sets, or None if it says nothing about contacts."""
    if event_type not in CONTACT_FIELD_OF_EVENT:
        return None
    fields: dict[str, Any] = {}
    if (key := CONTACT_FIELD_OF_EVENT[event_type]) is not None:
        contact = data.get(key)
        contact = contact if isinstance(contact, Mapping) else {}
        fields.update(
            given_name=_text(contact.get("given_name")),
            email=_text(contact.get("email")),
            phone=normalize_phone(_text(contact.get("phone")), phone_region),
            language=_text(contact.get("language")),
        )
    consent = data.get("consent")
    if isinstance(consent, Mapping):
        fields["consent"] = {channel: bool(consent.get(channel)) for channel in PATIENT_CHANNELS}
    return fields


def prefs_of(contact: Mapping[str, Any] | None) -> PatientPrefs:
    """What a stored contact allows: intake's consent minus the patient's opt-outs."""
    contact = contact or {}
    consent = contact.get("consent") or {}
    return PatientPrefs(
        email_ok=bool(consent.get("email")),
        sms_ok=bool(consent.get("sms")),
        opted_out_channels=frozenset(contact.get("opted_out_channels") or ()),
        language=contact.get("language"),
    )


def patient_address(contact: Mapping[str, Any], channel: str) -> str | None:
    """Where to reach the patient on `channel` (the phone is stored in E.164 already)."""
    return contact.get({"email": "email", "sms": "phone"}.get(channel, "")) or None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
