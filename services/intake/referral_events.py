"""The data of the referral events (docs/events.md), built from the stored referral and patient."""

from __future__ import annotations

from typing import Any

from services.intake import events
from services.intake.domain import intake_link
from services.intake.usecases.patient_matching import consent_of, contact_of
from shared.config import Settings
from shared.events.outbox import Outgoing


def referrer_of(terms: dict[str, Any]) -> dict[str, Any]:
    requester = terms.get("requester") or {}
    return {k: requester.get(k) for k in ("name", "email", "phone", "organization")}


def diagnoses_of(terms: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"code": d["code"], "display": d.get("display")} for d in terms.get("diagnoses", [])]


def terms_data(referral: dict[str, Any], patient: dict[str, Any], settings: Settings) -> dict:
    """`referral.accepted` / `referral.amended`: the referral's terms, referrer, patient and link."""
    terms = referral["terms"]
    return {
        "referral_id": referral["_id"],
        "partner_id": referral.get("partner_id"),
        "partner_referral_id": referral["partner_referral_id"],
        "patient_id": referral["patient_id"],
        "location_id": referral["location_id"],
        "priority": terms["priority"],
        "diagnoses": diagnoses_of(terms),
        "authorized_visits": terms["authorized_visits"],
        "valid_from": terms["valid_from"],
        "expires_on": terms["expires_on"],
        "body_sites": terms.get("body_sites", []),
        "referrer": referrer_of(terms),
        "patient": contact_of(patient),
        "consent": consent_of(patient),
        "intake_link": intake_link.link_for(
            settings, referral["_id"], referral["intake_link_nonce"]
        ),
        "version": referral["version"],
    }


def accepted(
    type: str, referral: dict[str, Any], patient: dict[str, Any], settings: Settings
) -> list[Outgoing]:
    """`referral.accepted` to the partner if any, and `referral.accepted` or `.amended` inside.

    The partner's status goes first: its queue is declared for every known partner, so it is
    always routable, and it does not wait behind an internal event nobody consumes yet.
    """
    data = terms_data(referral, patient, settings)
    internal = events.internal(type, referral["tenant_id"], data, referral["_id"])
    return [*_to_partner(referral, "referral.accepted"), internal]


def cancelled(referral: dict[str, Any], reason: str) -> list[Outgoing]:
    data = {
        "referral_id": referral["_id"],
        "partner_id": referral.get("partner_id"),
        "partner_referral_id": referral["partner_referral_id"],
        "patient_id": referral["patient_id"],
        "reason": reason,
    }
    internal = events.internal("referral.cancelled", referral["tenant_id"], data, referral["_id"])
    return [*_to_partner(referral, "referral.cancelled"), internal]


def _to_partner(referral: dict[str, Any], type: str) -> list[Outgoing]:
    if not referral.get("partner_id"):
        return []
    return [
        events.partner_status(
            referral["partner_id"],
            type,
            referral["tenant_id"],
            partner_referral_id=referral["partner_referral_id"],
            referral_id=referral["_id"],
            version=referral["version"],
        )
    ]
