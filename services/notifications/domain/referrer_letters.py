"""What a letter to the referring prescriber shows, and where each part comes from.

A prescriber knows a referral by their own id (`partner_referral_id`) and the patient by name and
date of birth, never by the clinic's ids (`ref_...`, `pln_...`); they are greeted as "Dr. Chen"
when their prefix came with the referral; and the letter is signed with the clinic's name.

Intake's events carry all of it (`referral.accepted`, `.amended`, `.rejected`: the referrer's
prefix and family name, the patient's birth date, the clinic's name). Planning's events
(`plan.activated`, `progress.updated`, `plan.completed`) name only the clinic's ids, so the
contact directory keeps, per patient, the clinic's name and, per referral, the prescriber's id
and greeting from intake's event (`directory_fields`), and `letter_context` puts them back when
a letter is rendered. The clinic's name is the one configured in notifications, else the one
intake's events gave, else the tenant id (`clinic_name_of`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LETTER_EVENTS = ("referral.accepted", "referral.amended")
"""Intake's events whose facts about the referral the directory keeps for later letters."""
PATIENT_FIELDS = ("given_name", "family_name", "birth_date")
GREETING_FIELDS = ("name", "prefix", "family_name")


def directory_fields(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """What the directory keeps of an intake event for the letters about its referral (beside
    the contact): the clinic's name, the patient's birth date, and under `referrals.<id>` the
    prescriber's referral id and greeting. Only what the event carries: nothing is blanked."""
    kept: dict[str, Any] = {}
    if _text(data.get("clinic_name")):
        kept["clinic_name"] = data["clinic_name"]
    patient = data.get("patient")
    if isinstance(patient, Mapping) and _text(patient.get("birth_date")):
        kept["birth_date"] = patient["birth_date"]
    referral_id = data.get("referral_id")
    if event_type in LETTER_EVENTS and isinstance(referral_id, str) and "." not in referral_id:
        referrer = data.get("referrer") if isinstance(data.get("referrer"), Mapping) else {}
        kept[f"referrals.{referral_id}"] = {
            "partner_referral_id": data.get("partner_referral_id"),
            "referrer": {k: referrer.get(k) for k in GREETING_FIELDS},
        }
    return kept


def letter_context(data: Mapping[str, Any], contact: Mapping[str, Any] | None) -> dict[str, Any]:
    """`partner_referral_id`, `patient` (name and birth date) and `referrer` (with its greeting)
    for a referrer's letter: from the event's data where it has them, else from the directory."""
    contact = contact or {}
    facts = (contact.get("referrals") or {}).get(data.get("referral_id")) or {}
    patient = data.get("patient") if isinstance(data.get("patient"), Mapping) else contact
    referrer = dict(data.get("referrer") or {}) if isinstance(data.get("referrer"), Mapping) else {}
    known = facts.get("referrer") or {}
    if not referrer.get("name") or referrer.get("name") == known.get("name"):
        # the prescriber the directory knows for this referral (never another one's greeting)
        referrer = {
            **{k: v for k, v in known.items() if v},
            **{k: v for k, v in referrer.items() if v},
        }
    return {
        "partner_referral_id": data.get("partner_referral_id") or facts.get("partner_referral_id"),
        "patient": {k: (patient or {}).get(k) for k in PATIENT_FIELDS},
        "referrer": referrer,
    }


def clinic_name_of(
    configured: str | None,
    data: Mapping[str, Any],
    contact: Mapping[str, Any] | None,
    tenant_id: str,
) -> str:
    """The clinic's display name in notifications, else intake's, else the tenant id."""
    return (
        _text(configured)
        or _text(data.get("clinic_name"))
        or _text((contact or {}).get("clinic_name"))
        or tenant_id
    )


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
