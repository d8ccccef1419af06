"""What a patient record tells the rest of the clinic: contact details and consent per channel.

Consent is recorded per channel ("Email OK", "Text OK"). When a referral says nothing,
`default_consent` applies: email is OK when an address is given (the intake link and appointment
messages are part of treatment), texts only with an explicit yes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .referral import ReferredPatient

CONTACT_FIELDS = ("given_name", "family_name", "email", "phone", "language")


def default_consent(patient: ReferredPatient) -> dict[str, bool]:
    return {"email": bool(patient.email), "sms": False}


def contact_of(patient: Mapping[str, Any]) -> dict[str, Any]:
    return {k: patient.get(k) for k in CONTACT_FIELDS}


def consent_of(patient: Mapping[str, Any]) -> dict[str, bool]:
    consent = patient.get("consent") or {}
    return {"email": bool(consent.get("email")), "sms": bool(consent.get("sms"))}
