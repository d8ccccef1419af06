"""The referral inbox: its tabs (what each asks intake for) and what a row shows.

"New" is every referral received in the last `NEW_FOR` (whatever its status: a front desk's
morning starts there); the other tabs are the referral's status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.console.domain.places import Place, place_of, zone_for
from services.console.domain.times import waited, when

NEW_FOR = timedelta(days=3)
STATUS_LABELS = {
    "accepted": "Accepted",
    "needs_review": "Needs review",
    "cancelled": "Cancelled",
    "rejected": "Rejected",
}
TABS: dict[str, str] = {"new": "New", **STATUS_LABELS}
DEFAULT_TAB = "new"


def query_for(tab: str, now: datetime) -> dict[str, str]:
    """What intake's `GET /referrals` is asked for a tab (an unknown tab is the default one)."""
    if tab in STATUS_LABELS:
        return {"status": tab}
    return {"received_since": (now - NEW_FOR).isoformat()}


def patient_name(terms: Mapping[str, Any]) -> str:
    patient = terms.get("patient") or {}
    return " ".join(p for p in (patient.get("given_name"), patient.get("family_name")) if p)


@dataclass(frozen=True)
class InboxRow:
    referral_id: str
    patient: str
    sender: str
    location: str
    status: str
    received: str
    waited: str
    pending: str


def row(
    referral: Mapping[str, Any],
    places: Iterable[Place],
    partner_names: Mapping[str, str],
    now: datetime,
) -> InboxRow:
    listed = list(places)
    location_id = referral.get("location_id")
    place = place_of(listed, location_id)
    partner_id = referral.get("partner_id")
    return InboxRow(
        referral_id=referral["referral_id"],
        patient=patient_name(referral.get("terms") or {}) or "(no name sent)",
        sender=partner_names.get(partner_id, partner_id) if partner_id else "Entered by staff",
        location=place.name if place else (location_id or "To settle"),
        status=STATUS_LABELS.get(referral.get("status", ""), referral.get("status", "")),
        received=when(referral.get("received_at"), zone_for(listed, location_id)),
        waited=waited(referral.get("received_at"), now),
        pending=", ".join(p.get("message", p.get("item", "")) for p in referral.get("pending", [])),
    )
