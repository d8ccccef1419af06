"""What the referral page shows: the prescriber, the diagnoses, the visits authorized, used and
remaining (used: the referral's plan in planning), the validity and the days it leaves (in the
location's zone), the partner's id and the amendments. Pure: from the APIs' answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.console.domain.inbox import STATUS_LABELS, patient_name
from services.console.domain.places import Place, place_of, zone_for
from services.console.domain.times import days_left, on_day, today_in, when

FIELD_LABELS = {
    "patient": "patient",
    "diagnoses": "diagnoses",
    "requester": "prescriber",
    "authorized_visits": "authorized visits",
    "valid_from": "start date",
    "expires_on": "end date",
    "visits_per_period": "frequency",
    "body_sites": "body sites",
    "notes": "notes",
    "priority": "priority",
    "status": "partner's status",
    "location_id": "location",
}


@dataclass(frozen=True)
class Visits:
    authorized: int | None
    used: int
    remaining: int | None
    from_plan: bool


@dataclass(frozen=True)
class Amendment:
    version: int
    replaced: str
    changed: str


@dataclass(frozen=True)
class ReferralPage:
    referral_id: str
    version: int
    status: str
    status_label: str
    patient: str
    birth_date: str
    prescriber: Mapping[str, Any]
    diagnoses: list[Mapping[str, Any]]
    other_reasons: list[str]
    visits: Visits
    valid_from: str
    expires_on: str
    days_left: int | None
    partner: str
    partner_referral_id: str
    location: str
    received: str
    notes: list[str]
    amendments: list[Amendment]
    pending: list[Mapping[str, Any]]
    closed: str
    patient_id: str = ""
    """The patient record the referral is linked to (none while it is held for review)."""


def visits(terms: Mapping[str, Any], plan: Mapping[str, Any] | None) -> Visits:
    authorized = terms.get("authorized_visits")
    counted = (plan or {}).get("visits") or {}
    if plan and counted:
        return Visits(counted.get("authorized", authorized), counted.get("used", 0),
                      counted.get("remaining"), True)  # fmt: skip
    return Visits(authorized, 0, authorized, False)


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    keys = [k for k in FIELD_LABELS if before.get(k) != after.get(k)]
    return ", ".join(FIELD_LABELS[k] for k in keys) or "nothing the page shows"


def amendments(
    history: list[Mapping[str, Any]], current: Mapping[str, Any], zone: Any
) -> list[Amendment]:
    """Each earlier version, newest first, with what the next version changed in it."""
    if not history:
        return []
    versions = [{**h["terms"], "location_id": h.get("location_id")} for h in history]
    later = [*versions[1:], current]
    found = [
        Amendment(h["version"], when(h.get("replaced_at"), zone), changed_fields(v, nxt))
        for h, v, nxt in zip(history, versions, later, strict=True)
    ]
    return list(reversed(found))


def closure(referral: Mapping[str, Any], zone: Any) -> str:
    for key, word in (("cancellation", "Cancelled"), ("decline", "Declined")):
        if done := referral.get(key):
            reason = f": {done['reason']}" if done.get("reason") else ""
            return f"{word} {when(done.get('at'), zone)}{reason}"
    return ""


def referral_page(
    referral: Mapping[str, Any],
    plan: Mapping[str, Any] | None,
    places: Iterable[Place],
    partner_name: str | None,
    now: datetime,
) -> ReferralPage:
    listed = list(places)
    terms = referral.get("terms") or {}
    location_id = referral.get("location_id")
    zone = zone_for(listed, location_id)
    place = place_of(listed, location_id)
    partner_id = referral.get("partner_id")
    current = {**terms, "location_id": location_id}
    return ReferralPage(
        referral_id=referral["referral_id"],
        version=referral["version"],
        status=referral["status"],
        status_label=STATUS_LABELS.get(referral["status"], referral["status"]),
        patient=patient_name(terms) or "(no name sent)",
        patient_id=str(referral.get("patient_id") or ""),
        birth_date=on_day((terms.get("patient") or {}).get("birth_date")),
        prescriber=terms.get("requester") or {},
        diagnoses=list(terms.get("diagnoses") or []),
        other_reasons=[
            r.get("text") or r.get("code") or "" for r in terms.get("other_reasons", [])
        ],
        visits=visits(terms, plan),
        valid_from=on_day(terms.get("valid_from")),
        expires_on=on_day(terms.get("expires_on")),
        days_left=days_left(terms.get("expires_on"), today_in(zone, now)),
        partner=(partner_name or partner_id) if partner_id else "Entered by staff",
        partner_referral_id=referral.get("partner_referral_id", ""),
        location=place.name if place else (location_id or "To settle"),
        received=when(referral.get("received_at"), zone),
        notes=list(terms.get("notes") or []),
        amendments=amendments(referral.get("history") or [], current, zone),
        pending=list(referral.get("pending") or []),
        closed=closure(referral, zone),
    )


@dataclass(frozen=True)
class Candidate:
    """A patient record a held referral may be (staff compare and choose)."""

    patient_id: str
    name: str
    born: str
    identifiers: str
    contact: str


def candidate_ids(pending: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted({pid for item in pending for pid in item.get("patient_ids") or []})


def candidate(patient: Mapping[str, Any]) -> Candidate:
    given, family = patient.get("given_name"), patient.get("family_name")
    ids = ", ".join(str(i.get("value", "")) for i in patient.get("identifiers") or [])
    contact = ", ".join(str(c) for c in (patient.get("phone"), patient.get("email")) if c)
    return Candidate(
        patient_id=patient["patient_id"],
        name=" ".join(p for p in (given, family) if p),
        born=on_day(patient.get("birth_date")),
        identifiers=ids,
        contact=contact,
    )
