"""Receiving referrals (from AMQP and HTTP alike), amending them, cancelling them, reading them.

One write per state change, with its events and its deduplication folded in:
- a new referral that lacks nothing: the patient is matched or registered (one insert when
  new), then the referral is inserted with `referral.accepted` (and the partner's status event)
  in its outbox; the unique index (tenant, partner, partner's referral id) makes a concurrent
  repeat lose cleanly;
- a new referral that lacks what the clinic settles with the prescriber (`domain/review.py`) is
  inserted `needs_review`, attached to nobody, with the partner's `referral.received` naming
  what is pending; nothing happens inside until staff resolve it (`referral_review.py`);
- a repeat (the same message again, or the same content under the same partner referral id) is
  recognised and changes nothing;
- changed content under the same id amends the referral in place: the previous terms go to
  `history`, the version goes up, and `referral.amended` is emitted;
- a cancellation sets the status, once.
Each outcome is audited (one record; it never holds patient data).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from services.intake import events
from services.intake.bootstrap import Deps
from services.intake.domain import intake_link, review
from services.intake.domain.clinic import location_ids, referral_validity_days
from services.intake.domain.partner_gate import may_refer
from services.intake.domain.referral import Referral
from services.intake.domain.referral_record import (
    content_hash,
    location_for,
    may_change,
    terms_of,
)
from services.intake.repository.partners import Partners
from services.intake.repository.patients import Patients
from services.intake.repository.referrals import Referrals
from services.intake.usecases.partner_status_format import clinic_context, status_format
from services.intake.usecases.referral_acceptance import settle
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
    answers: Mapping[str, str | None] | None = None  # {id, source}: what its status answers
    locations: Collection[str] | None = None  # a staff key limited to these locations


@dataclass(frozen=True)
class Receipt:
    outcome: str  # accepted | held | amended | duplicate | cancelled
    referral_id: str
    patient_id: str | None  # None while the referral is held for review
    version: int
    status: str = "accepted"  # accepted | needs_review | cancelled | rejected
    pending: tuple[dict[str, str], ...] = ()  # what a held referral waits for (partner's view)
    patient_registered: bool = False


# --- over HTTP: staff and partner keys ---------------------------------------------------------


def submit(
    deps: Deps,
    principal: Principal,
    referral: Referral,
    *,
    form: str,
    idempotency_key: str | None = None,
) -> Receipt:
    """A referral POSTed by the front desk or a partner's key (`receive`, as that sender).

    With an `Idempotency-Key`, the same key again is the duplicate it is, and the status events
    answer it (`answers` `{id: key, source: null}`); without one they answer nothing.
    """
    sender = http_sender(deps, principal)
    if idempotency_key:
        sender = replace(
            sender,
            message_key=f"http:{principal.partner_id or principal.actor}#{idempotency_key}",
            answers={"id": idempotency_key, "source": None},
        )
    return receive(deps, sender, referral, form=form)


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
    return _as_seen_by(principal, found)


def list_referrals(
    deps: Deps, principal: Principal, filters: dict[str, Any], request: PageRequest
) -> Page[dict[str, Any]]:
    """Referrals at the locations the key may see (a partner: its own), newest first."""
    where = {k: v for k, v in filters.items() if k != "received_since"}
    if "received_since" in filters:
        where["received_at"] = {"$gte": filters["received_since"]}
    where |= _visible(principal)
    page = Referrals(deps.db, principal.tenant_id).page(principal.locations, where, request)
    return page.map(lambda found: _as_seen_by(principal, found))


def _as_seen_by(principal: Principal, referral: dict[str, Any]) -> dict[str, Any]:
    """A partner sees what is pending, never the other patients a collision names."""
    if not principal.partner_id or not referral.get("pending"):
        return referral
    return {**referral, "pending": review.for_partner(referral["pending"])}


def _visible(principal: Principal) -> dict[str, Any]:
    """A partner key sees only its own referrals."""
    return {"partner_id": principal.partner_id} if principal.partner_id else {}


# --- every channel -----------------------------------------------------------------------------


def receive(
    deps: Deps, sender: Sender, referral: Referral, *, form: str, today: date | None = None
) -> Receipt:
    """Accept, hold for review, amend or recognise a referral; raises Invalid (reasons) or
    Conflict (cancelled or declined).

    A repeat is recognised before the checks, so a message redelivered after the referral's
    dates have passed is still the duplicate it is; it is recognised by what was sent (the
    clinic's defaults, such as its validity, do not count).
    """
    tenant = get_tenant(deps, sender.tenant_id)
    location_id, location_problem = location_for(
        location_ids(tenant), referral.location_id, sender.locations
    )
    unknown_location = location_id is None and referral.location_id not in (
        None,
        *location_ids(tenant),
    )
    if location_id is None and not unknown_location:
        raise Invalid.one("location_id", location_problem or "")
    sent_hash = content_hash(terms_of(referral), location_id or referral.location_id or "")
    taken = review.assess(
        referral,
        today=today or deps.clock().date(),
        validity_days=referral_validity_days(tenant),
        location_problem=location_problem if unknown_location else None,
    )
    repo = Referrals(deps.db, sender.tenant_id)

    def attempt() -> Receipt | None:
        existing = repo.by_partner_reference(sender.partner_id, referral.partner_referral_id)
        if existing is not None and _is_repeat(sender, existing, sent_hash):
            return _receipt("duplicate", existing)
        if taken.problems:
            raise Invalid(taken.problems)
        stored = {
            "tenant_id": sender.tenant_id,
            "partner_id": sender.partner_id,
            "partner_referral_id": referral.partner_referral_id,
            "location_id": location_id,
            "terms": terms_of(taken.referral),
            "content_hash": sent_hash,
            "answers": _answers(sender),
        }
        if existing is None:
            return _new(deps, sender, stored, taken.pending, form, tenant)
        return _amend(deps, sender, existing, stored, taken.pending, tenant)

    receipt = retry_on_conflict(attempt, what=f"referral {referral.partner_referral_id!r}")
    _audit(deps, sender, receipt)
    return receipt


def _is_repeat(sender: Sender, existing: dict[str, Any], sent_hash: str) -> bool:
    """The same message again, or the same content again."""
    same_message = sender.message_key in existing.get(APPLIED_FIELD, [])
    return same_message or existing["content_hash"] == sent_hash


def _applied(sender: Sender) -> list[str]:
    return [sender.message_key] if sender.message_key else []


def _new(
    deps: Deps,
    sender: Sender,
    stored: dict[str, Any],
    pending: list[review.Pending],
    form: str,
    tenant: Mapping[str, Any],
) -> Receipt | None:
    """A new referral: accepted with its patient, or held for review attached to nobody."""
    now = deps.clock()
    document = {
        "_id": new_id("ref"),
        **stored,
        "version": 1,
        "form": form,
        "channel": sender.channel,
        "history": [],
        "intake_link_nonce": intake_link.new_nonce(),
        "received_at": now,
        "updated_at": now,
        APPLIED_FIELD: _applied(sender),
    }
    settled = settle(deps, document, pending, tenant=tenant)
    document.update(settled.fields)
    if not Referrals(deps.db, sender.tenant_id).insert(
        {**document, **outbox.pending(settled.events)}
    ):
        return None  # a concurrent copy won: read it and treat this one as a repeat
    registered = bool(settled.placement and settled.placement.registered)
    return _receipt("accepted" if settled.accepted else "held", document, registered)


def _amend(
    deps: Deps,
    sender: Sender,
    existing: dict[str, Any],
    stored: dict[str, Any],
    pending: list[review.Pending],
    tenant: Mapping[str, Any],
) -> Receipt | None:
    """Changed content under the same partner referral id. An accepted referral is amended in
    place (the amendment must be complete: what it would wait for refuses it); a held one is
    assessed again, and accepted once nothing is pending."""
    if existing["status"] in ("cancelled", "rejected"):
        raise Conflict(f"the referral was {existing['status']}; send a new partner_referral_id")
    if existing["status"] == "accepted" and (pending or stored["location_id"] is None):
        raise Invalid({review.field_of(p["item"]): [p["message"]] for p in pending})
    version, now = existing["version"] + 1, deps.clock()
    changes = {k: stored[k] for k in ("terms", "content_hash", "location_id", "answers")}
    changes |= {"version": version, "updated_at": now}
    amended = {**existing, **changes}
    if existing["status"] == "accepted":
        patient = Patients(deps.db, sender.tenant_id).get(existing["patient_id"]) or {}
        emitted = events.referral_amended(
            amended,
            patient,
            deps.settings,
            status_format(deps, sender.partner_id),
            clinic_context(deps, sender.tenant_id, tenant),
        )
        outcome = "amended"
    else:
        settled = settle(deps, amended, pending, tenant=tenant)
        changes |= settled.fields
        amended |= settled.fields
        emitted = settled.events
        outcome = "accepted" if settled.accepted else "amended"
    previous = {k: existing[k] for k in ("version", "terms", "content_hash", "location_id")}
    update: dict[str, Any] = {
        "$set": changes,
        "$push": {"history": {**previous, "replaced_at": now}},
    }
    if sender.message_key:
        update["$push"][APPLIED_FIELD] = {"$each": _applied(sender), "$slice": -KEEP}
    if existing.get("patient_decision"):  # staff's answer was about the content it replaces
        update["$unset"] = {"patient_decision": ""}
    guarded = {"_id": existing["_id"], "version": existing["version"]}
    if not Referrals(deps.db, sender.tenant_id).update(
        guarded, outbox.with_events(update, emitted)
    ):
        return None
    return _receipt(outcome, amended)


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
        pending = events.referral_cancelled(
            {**existing, **changes},
            reason,
            status_format(deps, existing.get("partner_id")),
            answers=_answers(sender) if sender.partner_id else None,
            context=clinic_context(deps, sender.tenant_id),
        )
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


def _answers(sender: Sender) -> dict[str, str | None] | None:
    return dict(sender.answers) if sender.answers else None


def _receipt(outcome: str, referral: dict[str, Any], registered: bool = False) -> Receipt:
    return Receipt(
        outcome,
        referral["_id"],
        referral.get("patient_id"),
        referral["version"],
        referral["status"],
        tuple(review.for_partner(referral.get("pending", ()))),
        registered,
    )


def _audit(deps: Deps, sender: Sender, receipt: Receipt, action: str | None = None) -> None:
    """One record per outcome: ids and the items waiting, never patient data."""
    registered = " registered" if receipt.patient_registered else ""
    held = ", ".join(p["item"] for p in receipt.pending)
    who = f"patient {receipt.patient_id}{registered}" if receipt.patient_id else f"held: {held}"
    audit.record(
        deps.db,
        actor=sender.actor,
        tenant_id=sender.tenant_id,
        action=action or f"referral.{receipt.outcome}",
        object_type="referral",
        object_id=receipt.referral_id,
        detail=f"{who} via {sender.channel}",
    )
