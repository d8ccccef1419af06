"""Receiving referrals (from AMQP and HTTP alike), amending them, cancelling them, reading them.

One write per state change, with its events and its deduplication folded in:
- a new referral: the patient is matched or registered (one insert when new), then the referral
  is inserted with `referral.accepted` (and the partner's status event) in its outbox; the
  unique index (tenant, partner, partner's referral id) makes a concurrent repeat lose cleanly;
- a repeat (the same message again, or the same content under the same partner referral id) is
  recognised and changes nothing;
- changed content under the same id amends the referral in place: the previous terms go to
  `history`, the version goes up, and `referral.amended` is emitted;
- a cancellation sets the status, once.
Each outcome is audited (one record; it never holds patient data), and a referral whose patient
has a possible duplicate (see `patient_matching`) gets a second record naming the ids.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.intake import events
from services.intake.bootstrap import Deps
from services.intake.domain import intake_link
from services.intake.domain.clinic import location_ids
from services.intake.domain.partner_gate import may_refer
from services.intake.domain.referral import Referral
from services.intake.domain.referral_record import (
    content_hash,
    location_for,
    may_change,
    problems,
    terms_of,
)
from services.intake.repository.partners import Partners
from services.intake.repository.patients import Patients
from services.intake.repository.referrals import Referrals
from services.intake.usecases.patient_matching import match_or_register
from services.intake.usecases.tenants import get_tenant
from shared import audit
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.events import outbox
from shared.events.idempotency import APPLIED_FIELD, KEEP
from shared.ids import new_id
from shared.paging import Page, PageRequest
from shared.retry import retry_on_conflict
from shared.web.auth import Principal


@dataclass(frozen=True)
class Sender:
    """Who submits: the tenant it is for, the partner (None for clinic staff), and how."""

    tenant_id: str
    partner_id: str | None
    actor: str
    channel: str  # amqp | http
    message_key: str | None = None  # the message's idempotency key, when it has one
    locations: Collection[str] | None = None  # a staff key limited to these locations


@dataclass(frozen=True)
class Receipt:
    outcome: str  # accepted | amended | duplicate | cancelled
    referral_id: str
    patient_id: str
    version: int
    status: str = "accepted"
    patient_registered: bool = False
    possible_duplicates: tuple[str, ...] = ()  # other patients this one may be (staff decide)


# --- over HTTP: staff and partner keys ---------------------------------------------------------


def submit(deps: Deps, principal: Principal, referral: Referral, *, form: str) -> Receipt:
    """A referral POSTed by the front desk or a partner's key (`receive`, as that sender)."""
    return receive(deps, http_sender(deps, principal), referral, form=form)


def cancel_referral(deps: Deps, principal: Principal, referral_id: str, *, reason: str) -> Receipt:
    """Cancel a referral by our id (a partner: only its own)."""
    return cancel(deps, http_sender(deps, principal), reason=reason, referral_id=referral_id)


def http_sender(deps: Deps, principal: Principal) -> Sender:
    """The sender an API key is; a partner's only while it may still refer to the clinic."""
    if principal.partner_id:
        partner = Partners(deps.db).get(principal.partner_id)
        if not may_refer(partner, principal.tenant_id):
            raise Forbidden("this partner may no longer refer to this clinic")
    return Sender(
        tenant_id=principal.tenant_id,
        partner_id=principal.partner_id,
        actor=principal.actor,
        channel="http",
        locations=principal.locations,
    )


def get_referral(deps: Deps, principal: Principal, referral_id: str) -> dict[str, Any]:
    """One referral with its history, at a location the key may see (a partner: its own)."""
    found = Referrals(deps.db, principal.tenant_id).get(referral_id, principal.locations)
    if found is None or any(found.get(k) != v for k, v in _visible(principal).items()):
        raise NotFound(f"no referral {referral_id!r}")
    return found


def list_referrals(
    deps: Deps, principal: Principal, filters: dict[str, Any], request: PageRequest
) -> Page[dict[str, Any]]:
    """Referrals at the locations the key may see (a partner: its own), by id."""
    where = {**filters, **_visible(principal)}
    return Referrals(deps.db, principal.tenant_id).page(principal.locations, where, request)


def _visible(principal: Principal) -> dict[str, Any]:
    """A partner key sees only its own referrals."""
    return {"partner_id": principal.partner_id} if principal.partner_id else {}


# --- every channel -----------------------------------------------------------------------------


def receive(
    deps: Deps, sender: Sender, referral: Referral, *, form: str, today: date | None = None
) -> Receipt:
    """Accept, amend or recognise a referral; raises Invalid (reasons) or Conflict (cancelled).

    A repeat is recognised before the checks, so a message redelivered after the referral's
    dates have passed is still the duplicate it is.
    """
    tenant = get_tenant(deps, sender.tenant_id)
    location_id, problem = location_for(
        location_ids(tenant), referral.location_id, sender.locations
    )
    if location_id is None:
        raise Invalid.one("location_id", problem or "")
    terms = terms_of(referral)
    repo = Referrals(deps.db, sender.tenant_id)

    def attempt() -> Receipt | None:
        existing = repo.by_partner_reference(sender.partner_id, referral.partner_referral_id)
        if existing is not None and _is_repeat(sender, existing, terms, location_id):
            return _receipt("duplicate", existing)
        errors = problems(referral, today or deps.clock().date())
        if errors:
            raise Invalid(errors)
        if existing is None:
            return _accept(deps, sender, referral, terms, location_id, form, tenant["name"])
        return _amend(deps, sender, existing, terms, location_id, tenant["name"])

    receipt = retry_on_conflict(attempt, what=f"referral {referral.partner_referral_id!r}")
    _audit(deps, sender, receipt)
    if receipt.possible_duplicates:
        _audit_possible_duplicates(deps, sender, receipt)
    return receipt


def _is_repeat(sender: Sender, existing: dict[str, Any], terms: dict, location_id: str) -> bool:
    """The same message again, or the same content again."""
    same_message = sender.message_key in existing.get(APPLIED_FIELD, [])
    return same_message or existing["content_hash"] == content_hash(terms, location_id)


def _applied(sender: Sender) -> list[str]:
    return [sender.message_key] if sender.message_key else []


def _accept(
    deps: Deps,
    sender: Sender,
    referral: Referral,
    terms: dict[str, Any],
    location_id: str,
    form: str,
    clinic_name: str,
) -> Receipt | None:
    referral_id = new_id("ref")
    placement = match_or_register(
        deps,
        sender.tenant_id,
        referral.patient,
        location_id,
        partner_id=sender.partner_id,
        referral_id=referral_id,
    )
    patient, now = placement.patient, deps.clock()
    document = {
        "_id": referral_id,
        "tenant_id": sender.tenant_id,
        "partner_id": sender.partner_id,
        "partner_referral_id": referral.partner_referral_id,
        "location_id": location_id,
        "patient_id": patient["_id"],
        "status": "accepted",
        "version": 1,
        "form": form,
        "channel": sender.channel,
        "terms": terms,
        "content_hash": content_hash(terms, location_id),
        "history": [],
        "intake_link_nonce": intake_link.new_nonce(),
        "received_at": now,
        "updated_at": now,
        APPLIED_FIELD: _applied(sender),
    }
    pending = events.referral_accepted(document, patient, deps.settings, clinic_name)
    if not Referrals(deps.db, sender.tenant_id).insert({**document, **outbox.pending(pending)}):
        return None  # a concurrent copy won: read it and treat this one as a repeat
    return Receipt(
        "accepted",
        referral_id,
        patient["_id"],
        1,
        patient_registered=placement.registered,
        possible_duplicates=placement.possible_duplicates,
    )


def _amend(
    deps: Deps,
    sender: Sender,
    existing: dict[str, Any],
    terms: dict[str, Any],
    location_id: str,
    clinic_name: str,
) -> Receipt | None:
    if existing["status"] != "accepted":
        raise Conflict(f"the referral was {existing['status']}; send a new partner_referral_id")
    version, now = existing["version"] + 1, deps.clock()
    changes = {
        "terms": terms,
        "content_hash": content_hash(terms, location_id),
        "location_id": location_id,
        "version": version,
        "updated_at": now,
    }
    previous = {k: existing[k] for k in ("version", "terms", "content_hash", "location_id")}
    update: dict[str, Any] = {
        "$set": changes,
        "$push": {"history": {**previous, "replaced_at": now}},
    }
    if sender.message_key:
        update["$push"][APPLIED_FIELD] = {"$each": _applied(sender), "$slice": -KEEP}
    amended = {**existing, **changes}
    patient = Patients(deps.db, sender.tenant_id).get(existing["patient_id"]) or {}
    pending = events.referral_amended(amended, patient, deps.settings, clinic_name)
    guarded = {"_id": existing["_id"], "version": existing["version"]}
    if not Referrals(deps.db, sender.tenant_id).update(
        guarded, outbox.with_events(update, pending)
    ):
        return None
    return _receipt("amended", amended)


def cancel(
    deps: Deps,
    sender: Sender,
    *,
    reason: str,
    referral_id: str | None = None,
    partner_referral_id: str | None = None,
) -> Receipt:
    """Cancel by our id or by the partner's; a second cancellation is a duplicate."""
    repo = Referrals(deps.db, sender.tenant_id)

    def attempt() -> tuple[Receipt, str] | None:
        existing = _find_for_cancel(repo, sender, referral_id, partner_referral_id)
        repeated = sender.message_key in existing.get(APPLIED_FIELD, [])
        if existing["status"] == "cancelled" or repeated:
            return _receipt("duplicate", existing), "referral.cancel_repeated"
        cancellation = {"reason": reason, "at": deps.clock(), "by": sender.actor}
        changes = {
            "status": "cancelled",
            "cancellation": cancellation,
            "version": existing["version"] + 1,
        }
        update: dict[str, Any] = {"$set": {**changes, "updated_at": cancellation["at"]}}
        if sender.message_key:
            update["$push"] = {APPLIED_FIELD: {"$each": _applied(sender), "$slice": -KEEP}}
        pending = events.referral_cancelled({**existing, **changes}, reason)
        guarded = {"_id": existing["_id"], "version": existing["version"]}
        if not repo.update(guarded, outbox.with_events(update, pending)):
            return None
        return _receipt("cancelled", {**existing, **changes}), "referral.cancel"

    receipt, action = retry_on_conflict(attempt, what="the referral")
    _audit(deps, sender, receipt, action)
    return receipt


def _find_for_cancel(
    repo: Referrals, sender: Sender, referral_id: str | None, partner_referral_id: str | None
) -> dict[str, Any]:
    if referral_id is None:
        found = repo.by_partner_reference(sender.partner_id, partner_referral_id or "")
    else:
        found = repo.get_full(referral_id)
    if found is None or not may_change(found, sender.partner_id, sender.locations):
        raise NotFound("no such referral")
    return found


def _receipt(outcome: str, referral: dict[str, Any]) -> Receipt:
    return Receipt(
        outcome, referral["_id"], referral["patient_id"], referral["version"], referral["status"]
    )


def _audit(deps: Deps, sender: Sender, receipt: Receipt, action: str | None = None) -> None:
    registered = " registered" if receipt.patient_registered else ""
    audit.record(
        deps.db,
        actor=sender.actor,
        tenant_id=sender.tenant_id,
        action=action or f"referral.{receipt.outcome}",
        object_type="referral",
        object_id=receipt.referral_id,
        detail=f"patient {receipt.patient_id}{registered} via {sender.channel}",
    )


def _audit_possible_duplicates(deps: Deps, sender: Sender, receipt: Receipt) -> None:
    """The referral's patient may be another record's person: ids only, never patient data."""
    audit.record(
        deps.db,
        actor=sender.actor,
        tenant_id=sender.tenant_id,
        action="patient.possible_duplicate",
        object_type="patient",
        object_id=receipt.patient_id,
        detail=(
            f"referral {receipt.referral_id}: not linked to possible duplicate "
            f"{', '.join(receipt.possible_duplicates)}; both records flagged for review"
        ),
    )
