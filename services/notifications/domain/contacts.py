"""The contact directory's rules: what events tell us about a patient, and what a patient allows.

Session events carry no contact details, so the service keeps, per patient, what intake's
events said last (name, email, phone in E.164, language, consent; and, for the letters to the
referring prescriber, the birth date, the clinic's name and, per referral, the prescriber's
referral id and greeting: `referrer_letters`) plus the patient's own choices made here
(opt-outs through the preferences API, the unsubscribe link or a STOP reply). Intake's consent
and the patient's choices are kept apart: a new consent event never undoes an opt-out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import phonenumbers

from .referrer_letters import directory_fields

PATIENT_CHANNELS = ("email", "sms")

CONTACT_FIELD_OF_EVENT: Mapping[str, str | None] = {
    "referral.accepted": "patient",
    "referral.amended": "patient",
    "patient.registered": "contact",
    "patient.consent_changed": None,  # consent only
}
"""Events that update the directory, and the data field holding the contact (None: none)."""


@dataclass(frozen=True)
class PatientPrefs:
    email_ok: bool = False
    sms_ok: bool = False
    opted_out_channels: frozenset[str] = frozenset()
    language: str | None = None

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | PatientPrefs | None) -> PatientPrefs:
        if isinstance(raw, PatientPrefs):
            return raw
        raw = raw or {}
        return cls(
            email_ok=bool(raw.get("email_ok", False)),
            sms_ok=bool(raw.get("sms_ok", False)),
            opted_out_channels=frozenset(raw.get("opted_out_channels") or ()),
            language=raw.get("language") or None,
        )

    def allows(self, channel: str) -> bool:
        return channel in self.channels()

    def channels(self) -> frozenset[str]:
        """The channels the patient may be reached on: consented, not opted out of."""
        consented = {"email": self.email_ok, "sms": self.sms_ok}
        return frozenset(c for c, ok in consented.items() if ok) - self.opted_out_channels


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
            family_name=_text(contact.get("family_name")),
            email=_text(contact.get("email")),
            phone=normalize_phone(_text(contact.get("phone")), phone_region),
            language=_text(contact.get("language")),
        )
    consent = data.get("consent")
    if isinstance(consent, Mapping):
        fields["consent"] = {channel: bool(consent.get(channel)) for channel in PATIENT_CHANNELS}
    return {**fields, **directory_fields(event_type, data)}


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


def merge_event_consent(prefs: PatientPrefs, data: Mapping[str, Any]) -> PatientPrefs:
    """Consent carried by the event itself is newer than the stored one and wins; a stored
    opt-out always wins (it is kept in `opted_out_channels`)."""
    consent = data.get("consent") or {}
    contact = data.get("patient") or data.get("contact") or {}
    return replace(
        prefs,
        email_ok=bool(consent.get("email", prefs.email_ok)),
        sms_ok=bool(consent.get("sms", prefs.sms_ok)),
        language=prefs.language or contact.get("language") or None,
    )


def preferences(contact: Mapping[str, Any]) -> dict[str, Any]:
    """A patient's preferences as staff see them: intake's consent, the patient's own choice,
    and what will be sent (both)."""
    prefs = prefs_of(contact)
    consent = contact.get("consent") or {}
    return {
        "patient_id": contact["patient_id"],
        "consent": {c: bool(consent.get(c)) for c in PATIENT_CHANNELS},
        "receive": {c: c not in prefs.opted_out_channels for c in PATIENT_CHANNELS},
        "effective": {c: prefs.allows(c) for c in PATIENT_CHANNELS},
        "language": contact.get("language"),
    }


def patient_address(contact: Mapping[str, Any], channel: str) -> str | None:
    """Where to reach the patient on `channel` (the phone is stored in E.164 already)."""
    return contact.get({"email": "email", "sms": "phone"}.get(channel, "")) or None


def normalize_phone(raw: str | None, region: str = "US") -> str | None:
    """E.164 (`+15551234567`) for a valid number, else None."""
    try:
        number = phonenumbers.parse(raw or "", region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
