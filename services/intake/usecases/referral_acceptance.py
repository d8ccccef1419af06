"""Accepting a referral, or holding it for review: what receiving and staff's review share.

A referral is accepted only when nothing is pending; its patient is placed then, and only then
(`patient_matching`): a held referral is attached to nobody, and a patient is registered only for
a referral the clinic takes. `settle` makes that decision for a referral's terms and returns the
fields to store with the events they cause (the partner's `referral.received` while held;
`referral.accepted` to the partner and inside once accepted), for the caller's one write, in
the partner's status format (`partner_status_format`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.intake import events
from services.intake.bootstrap import Deps
from services.intake.domain.referral_record import referred_patient
from services.intake.domain.review import PATIENT_IDENTITY, Pending, identity_item
from services.intake.usecases.partner_status_format import clinic_context, status_format
from services.intake.usecases.patient_matching import (
    Placement,
    doubts_of,
    link_patient,
    place_patient,
    register_patient,
)
from shared.events.outbox import Outgoing
from shared.web.auth import Principal


@dataclass(frozen=True)
class Settled:
    """The referral's new fields (status, patient, pending) and the events of that change."""

    fields: dict[str, Any]
    events: list[Outgoing]
    placement: Placement | None = None

    @property
    def accepted(self) -> bool:
        return self.fields["status"] == "accepted"


def settle(
    deps: Deps,
    referral: Mapping[str, Any],
    pending: Sequence[Pending],
    *,
    decision: Mapping[str, Any] | None = None,
    staff: Principal | None = None,
    tenant: Mapping[str, Any] | None = None,
) -> Settled:
    """Accept `referral` (its terms, location and partner as they will be stored) if nothing is
    pending and its patient is sure (or staff decided who it is: `decision` `{link_to}` or
    `{register_new}`), else hold it `needs_review` with what is pending.

    A referral held for other items is checked for a patient collision all the same (read only),
    so staff see every item at once. `tenant`: the clinic's document, when the caller has it.
    """
    tenant_id, partner_id = referral["tenant_id"], referral.get("partner_id")
    referred = referred_patient(referral["terms"]["patient"])
    items = [dict(p) for p in pending]
    if items or referral.get("location_id") is None:
        asked = decision is not None or any(i["item"] == PATIENT_IDENTITY for i in items)
        if not asked and (doubts := doubts_of(deps, tenant_id, referred, partner_id=partner_id)):
            items.append(identity_item(doubts))
        return _held(deps, referral, items, tenant)
    location_id = referral["location_id"]
    if decision is not None:
        placement = _decided(deps, referral, referred, location_id, decision, staff)
    else:
        placement = place_patient(deps, tenant_id, referred, location_id, partner_id=partner_id)
    if placement.patient is None:
        return _held(deps, referral, [identity_item(placement.doubts)], tenant)
    accepted = {
        **referral,
        "status": "accepted",
        "pending": [],
        "patient_id": placement.patient["_id"],
    }
    fields = {"status": "accepted", "pending": [], "patient_id": placement.patient["_id"]}
    emitted = events.referral_accepted(
        accepted,
        placement.patient,
        deps.settings,
        status_format(deps, partner_id),
        clinic_context(deps, tenant_id, tenant),
    )
    return Settled(fields, emitted, placement)


def _decided(
    deps: Deps,
    referral: Mapping[str, Any],
    referred: Any,
    location_id: str,
    decision: Mapping[str, Any],
    staff: Principal | None,
) -> Placement:
    """Staff's answer to a patient collision, recorded so the same doubt is not raised again."""
    tenant_id = referral["tenant_id"]
    others = decision.get("doubts", ())
    if decision.get("link_to"):
        patient = link_patient(
            deps,
            tenant_id,
            decision["link_to"],
            location_id,
            locations=staff.locations if staff else None,
            distinct_from=others,
        )
        return Placement(patient)
    patient = register_patient(
        deps,
        tenant_id,
        referred,
        location_id,
        partner_id=referral.get("partner_id"),
        distinct_from=others,
    )
    return Placement(patient, registered=True)


def _held(
    deps: Deps,
    referral: Mapping[str, Any],
    items: list[Pending],
    tenant: Mapping[str, Any] | None,
) -> Settled:
    fields = {"status": "needs_review", "pending": items, "patient_id": None}
    held = {**referral, **fields}
    emitted = events.referral_held(
        held,
        status_format(deps, referral.get("partner_id")),
        clinic_context(deps, referral["tenant_id"], tenant),
    )
    return Settled(fields, emitted)
