"""What a patient record tells the rest of the clinic: contact details and consent per channel.

Consent is recorded per channel ("Email OK", "Text OK"). When a referral says nothing,
`default_consent` applies: email is OK when an address is given (the intake link and appointment
messages are part of treatment), texts only with an explicit yes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .referral import ReferredPatient

CONTACT_FIELDS = ("given_name", "family_name", "email", "phone", "language")
POSSIBLE_DUPLICATE = "possible_duplicate"


def default_consent(patient: ReferredPatient) -> dict[str, bool]:
    return {"email": bool(patient.email), "sms": False}


def contact_of(patient: Mapping[str, Any]) -> dict[str, Any]:
    return {k: patient.get(k) for k in CONTACT_FIELDS}


def consent_of(patient: Mapping[str, Any]) -> dict[str, bool]:
    consent = patient.get("consent") or {}
    return {"email": bool(consent.get("email")), "sms": bool(consent.get("sms"))}


def possible_duplicate_flag(
    other_id: str, reason: str, referral_id: str, at: datetime
) -> dict[str, Any]:
    """The mark on a patient record that another record may be the same person (staff decide)."""
    return {
        "kind": POSSIBLE_DUPLICATE,
        "other_patient_id": other_id,
        "reason": reason,
        "referral_id": referral_id,
        "at": at,
    }


def is_flagged_with(patient: Mapping[str, Any], other_id: str) -> bool:
    return any(f.get("other_patient_id") == other_id for f in patient.get("flags", ()))
