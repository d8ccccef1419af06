"""Receiving referrals (from AMQP and HTTP alike), amending them and cancelling them.

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
has a possible duplicate (see `patients.match_or_register`) gets a second record naming the ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from services.intake import referral_events
from services.intake.domain import intake_link
from services.intake.domain.referral import Referral, check_patient, check_terms
from services.intake.errors import Conflict, Invalid, NotFound
from services.intake.repository import indexes as storage
from services.intake.repository.patient_data import Patients, Referrals
from services.intake.usecases import patient_matching as patients
from services.intake.usecases import tenants as access
from shared import audit
from shared.config import Settings
from shared.events import outbox
from shared.events.idempotency import APPLIED_FIELD, KEEP

ATTEMPTS = 3


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


def _problems(referral: Referral, today: date) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for problem in [*check_patient(referral), *check_terms(referral, today)]:
        path, _, message = problem.partition(": ")
        errors.setdefault(path, []).append(message)
    return errors


def terms_of(referral: Referral) -> dict[str, Any]:
    """The referral as stored (JSON types: dates as YYYY-MM-DD), without tenant and location."""
    terms = asdict(referral)
    for key in ("tenant_id", "location_id"):
        terms.pop(key)
    return json.loads(json.dumps(terms, default=lambda d: d.isoformat()))


def content_hash(terms: dict[str, Any], location_id: str) -> str:
    canonical = json.dumps({"terms": terms, "location_id": location_id}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _location(
    tenant: dict[str, Any], requested: str | None, allowed: Collection[str] | None
) -> str:
    ids = access.location_ids(tenant)
    if requested and requested not in ids:
        raise Invalid.one("location_id", f"{requested!r} is not a location of this clinic")
    choices = [i for i in ([requested] if requested else ids) if allowed is None or i in allowed]
    if not choices:
        raise Invalid.one("location_id", "no location of this clinic that you may use")
    return choices[0]


def receive(
    db: Database,
    settings: Settings,
    sender: Sender,
    referral: Referral,
    *,
    form: str,
    today: date | None = None,
) -> Receipt:
    """Accept, amend or recognise a referral; raises Invalid (reasons) or Conflict (cancelled).

    A repeat is recognised before the checks, so a message redelivered after the referral's
    dates have passed is still the duplicate it is.
    """
    tenant = access.get_tenant(db, sender.tenant_id)
    location_id = _location(tenant, referral.location_id, sender.locations)
    terms = terms_of(referral)
    repo = Referrals(db, sender.tenant_id)
    for _ in range(ATTEMPTS):
        existing = repo.by_partner_reference(sender.partner_id, referral.partner_referral_id)
        if existing is not None and _is_repeat(sender, existing, terms, location_id):
            receipt: Receipt | None = _receipt("duplicate", existing)
        else:
            errors = _problems(referral, today or datetime.now(UTC).date())
            if errors:
                raise Invalid(errors)
            if existing is None:
                receipt = _accept(db, settings, sender, referral, terms, location_id, form)
            else:
                receipt = _amend(db, settings, sender, existing, terms, location_id)
        if receipt is not None:
            _audit(db, sender, receipt)
            if receipt.possible_duplicates:
                _audit_possible_duplicates(db, sender, receipt)
            return receipt
    raise RuntimeError("the referral kept changing concurrently")


def _is_repeat(sender: Sender, existing: dict[str, Any], terms: dict, location_id: str) -> bool:
    """The same message again, or the same content again."""
    same_message = sender.message_key in existing.get(APPLIED_FIELD, [])
    return same_message or existing["content_hash"] == content_hash(terms, location_id)


def _applied(sender: Sender) -> list[str]:
    return [sender.message_key] if sender.message_key else []


def _accept(
    db: Database,
    settings: Settings,
    sender: Sender,
    referral: Referral,
    terms: dict[str, Any],
    location_id: str,
    form: str,
) -> Receipt | None:
    referral_id = storage.new_id("ref")
    placement = patients.match_or_register(
        db,
        sender.tenant_id,
        referral.patient,
        location_id,
        partner_id=sender.partner_id,
        referral_id=referral_id,
    )
    patient = placement.patient
    now = datetime.now(UTC)
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
    pending = referral_events.accepted("referral.accepted", document, patient, settings)
    try:
        Referrals(db, sender.tenant_id).insert({**document, **outbox.pending(pending)})
    except DuplicateKeyError:
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
    db: Database,
    settings: Settings,
    sender: Sender,
    existing: dict[str, Any],
    terms: dict[str, Any],
    location_id: str,
) -> Receipt | None:
    if existing["status"] != "accepted":
        raise Conflict(f"the referral was {existing['status']}; send a new partner_referral_id")
    version, now = existing["version"] + 1, datetime.now(UTC)
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
    patient = Patients(db, sender.tenant_id).get(existing["patient_id"]) or {}
    pending = referral_events.accepted("referral.amended", amended, patient, settings)
    guarded = {"_id": existing["_id"], "version": existing["version"]}
    if (
        not Referrals(db, sender.tenant_id)
        .update(guarded, outbox.with_events(update, pending))
        .matched_count
    ):
        return None
    return _receipt("amended", amended)


def _receipt(outcome: str, referral: dict[str, Any]) -> Receipt:
    return Receipt(
        outcome, referral["_id"], referral["patient_id"], referral["version"], referral["status"]
    )


def _audit(db: Database, sender: Sender, receipt: Receipt, action: str | None = None) -> None:
    audit.record(
        db,
        actor=sender.actor,
        tenant_id=sender.tenant_id,
        action=action or f"referral.{receipt.outcome}",
        object_type="referral",
        object_id=receipt.referral_id,
        detail=f"patient {receipt.patient_id}{' registered' if receipt.patient_registered else ''} via {sender.channel}",
    )


def _audit_possible_duplicates(db: Database, sender: Sender, receipt: Receipt) -> None:
    """The referral's patient may be another record's person: ids only, never patient data."""
    audit.record(
        db,
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


def cancel(
    db: Database,
    sender: Sender,
    *,
    reason: str,
    referral_id: str | None = None,
    partner_referral_id: str | None = None,
) -> Receipt:
    """Cancel by our id or by the partner's; a second cancellation is a duplicate."""
    repo = Referrals(db, sender.tenant_id)
    for _ in range(ATTEMPTS):
        existing = _find_for_cancel(repo, sender, referral_id, partner_referral_id)
        repeated = sender.message_key in existing.get(APPLIED_FIELD, [])
        if existing["status"] == "cancelled" or repeated:
            receipt = _receipt("duplicate", existing)
            _audit(db, sender, receipt, "referral.cancel_repeated")
            return receipt
        version = existing["version"] + 1
        cancellation = {"reason": reason, "at": datetime.now(UTC), "by": sender.actor}
        changes = {"status": "cancelled", "cancellation": cancellation, "version": version}
        update: dict[str, Any] = {"$set": {**changes, "updated_at": cancellation["at"]}}
        if sender.message_key:
            update["$push"] = {APPLIED_FIELD: {"$each": _applied(sender), "$slice": -KEEP}}
        pending = referral_events.cancelled({**existing, **changes}, reason)
        guarded = {"_id": existing["_id"], "version": existing["version"]}
        if repo.update(guarded, outbox.with_events(update, pending)).matched_count:
            receipt = _receipt("cancelled", {**existing, **changes})
            _audit(db, sender, receipt, "referral.cancel")
            return receipt
    raise RuntimeError("the referral kept changing concurrently")


def _find_for_cancel(
    repo: Referrals, sender: Sender, referral_id: str | None, partner_referral_id: str | None
) -> dict[str, Any]:
    if referral_id is None:
        found = repo.by_partner_reference(sender.partner_id, partner_referral_id or "")
    else:
        found = repo.get_full(referral_id)
    if found is None or not _may_change(sender, found):
        raise NotFound("referral")
    return found


def _may_change(sender: Sender, referral: dict[str, Any]) -> bool:
    """Staff at the referral's location; a partner only its own referrals."""
    in_location = sender.locations is None or referral["location_id"] in sender.locations
    own = not sender.partner_id or referral.get("partner_id") == sender.partner_id
    return in_location and own
