"""Staff's review of held referrals: supply what is missing (then it is accepted), or decline it.

A referral held `needs_review` (`domain/review.py`) waits for the clinic: the front desk or an
admin supplies the code(s), the visit count, the location, or who the patient is (`{link_to}`
an existing patient, or `{register_new}`), naming the `version` they saw. When nothing is
pending any more the referral is accepted in the same write (`referral.accepted` inside and to
the partner, answering the partner's message); until then staff's answers are kept. Declining
it with a reason rejects it (`referral.rejected` to the partner and inside). The views audit both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.intake import events
from services.intake.bootstrap import Deps
from services.intake.domain.clinic import location_ids
from services.intake.domain.review import PATIENT_IDENTITY, apply_review
from services.intake.repository.referrals import Referrals
from services.intake.usecases.partner_status_format import clinic_context, status_format
from services.intake.usecases.referral_acceptance import settle
from services.intake.usecases.tenants import get_tenant
from shared.errors import Conflict, Invalid, NotFound
from shared.events import outbox
from shared.web.auth import Principal


def review_referral(
    deps: Deps, principal: Principal, referral_id: str, answer: Mapping[str, Any]
) -> dict[str, Any]:
    """Apply staff's answer to a held referral (`answer`: `version` and what it supplies)."""
    repo = Referrals(deps.db, principal.tenant_id)
    held = _held(repo, principal, referral_id, answer["version"])
    supplied = {k: v for k, v in answer.items() if k != "version"}
    allowed = principal.locations
    if "location_id" in supplied and allowed is not None and supplied["location_id"] not in allowed:
        raise Invalid.one("location_id", "not a location you may use")
    tenant = get_tenant(deps, principal.tenant_id)
    clinic = location_ids(tenant)
    result, errors = apply_review(
        held["terms"], held.get("location_id"), held["pending"], supplied, clinic
    )
    if result is None:
        raise Invalid(errors)
    decision = _decision(held, result.patient) or held.get("patient_decision")
    reviewed = {**held, "terms": result.terms, "location_id": result.location_id}
    settled = settle(
        deps, reviewed, result.pending, decision=decision, staff=principal, tenant=tenant
    )
    now = deps.clock()
    changes = {
        "terms": result.terms,
        "location_id": result.location_id,
        "version": held["version"] + 1,
        "updated_at": now,
        **settled.fields,
    }
    if decision is not None and not settled.accepted:
        changes["patient_decision"] = dict(decision)
    entry = {"by": principal.actor, "at": now, "supplied": sorted(supplied)}
    update = {"$set": changes, "$push": {"reviews": entry}}
    if not repo.update(
        {"_id": referral_id, "version": held["version"]}, outbox.with_events(update, settled.events)
    ):
        raise Conflict("the referral changed while it was reviewed; reload it")
    return {**reviewed, **changes}


def decline_referral(
    deps: Deps, principal: Principal, referral_id: str, *, version: int, reason: str
) -> dict[str, Any]:
    """Reject a held referral with the clinic's reason (the partner hears it)."""
    repo = Referrals(deps.db, principal.tenant_id)
    held = _held(repo, principal, referral_id, version)
    now = deps.clock()
    changes = {
        "status": "rejected",
        "decline": {"reason": reason, "by": principal.actor, "at": now},
        "version": version + 1,
        "updated_at": now,
    }
    declined = {**held, **changes}
    emitted = events.referral_declined(
        declined,
        reason,
        status_format(deps, held.get("partner_id")),
        clinic_context(deps, principal.tenant_id),
    )
    if not repo.update(
        {"_id": referral_id, "version": version},
        outbox.with_events({"$set": changes}, emitted),
    ):
        raise Conflict("the referral changed while it was declined; reload it")
    return declined


def _held(repo: Referrals, principal: Principal, referral_id: str, version: int) -> dict[str, Any]:
    """The referral, held for review, at the version the caller saw; else 404 or 409."""
    found = repo.get_full(referral_id)
    visible = found is not None and (
        principal.locations is None or found.get("location_id") in principal.locations
    )
    if not visible or found is None:
        raise NotFound(f"no referral {referral_id!r}")
    if found["status"] != "needs_review":
        raise Conflict(f"the referral is {found['status']}, not waiting for review")
    if found["version"] != version:
        raise Conflict(f"the referral is at version {found['version']}, not {version}; reload it")
    return found


def _decision(held: Mapping[str, Any], patient: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Staff's patient answer, with the records the collision named (to record as others)."""
    if patient is None:
        return None
    doubts = next(
        (i.get("patient_ids", []) for i in held["pending"] if i["item"] == PATIENT_IDENTITY), []
    )
    return {**patient, "doubts": list(doubts)}
