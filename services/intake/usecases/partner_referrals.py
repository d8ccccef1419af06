"""Partner referrals over AMQP: the gate, then the referral or its cancellation, or the refusal.

A message first passes the gate (`domain/partner_gate.refusal`: a known partner, routed under
its own id, for a clinic it may refer to), then its form is read (`partner_forms`) and the
referral received or cancelled (`usecases.referrals`). Anything refused is recorded once
(`partner_rejections`, with the partner's `referral.rejected` status event and, for a clinic the
partner may refer to, the internal one), audited without patient data, and raised as `Refused`
for the consumer to dead-letter. A referral that kept changing concurrently is not refused: it
is raised as it is, and the consumer retries it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, NoReturn

from services.intake import events
from services.intake.bootstrap import Deps
from services.intake.domain import partner_gate
from services.intake.domain.fhir_task import TaskContext
from services.intake.domain.referral import Referral
from services.intake.domain.refusals import UNKNOWN_TENANT, Refusal, reason, summary
from services.intake.errors import Refused
from services.intake.partner_forms.reading import (
    claimed_reference,
    read_cancellation,
    read_referral_message,
    sniffed_form,
)
from services.intake.repository.partner_rejections import PartnerRejections
from services.intake.usecases import referrals
from services.intake.usecases.partner_status_format import clinic_context, status_format
from shared import audit
from shared.errors import ConcurrentChange, Conflict, Invalid, NotFound

REQUESTED = "referral.requested"
CANCELLED = "referral.cancelled"


@dataclass(frozen=True)
class PartnerMessage:
    """A partner's message as the consumer received it; who sent it is the broker's word."""

    key: str  # its idempotency key
    answers: Mapping[str, str | None]  # {id, source} of the CloudEvent (what its status answers)
    user_id: str | None  # the broker-validated AMQP user of the first publish
    routing_key: str
    type: str
    tenant_id: str | None
    content_type: str | None
    data: Any


def refer(deps: Deps, message: PartnerMessage) -> bool:
    """Receive the referral in the message; False for a repeat. Refused, or ConcurrentChange."""
    refusal = _admit(
        deps, message, claimed_reference(sniffed_form(message.content_type), message.data)
    )
    read = read_referral_message(
        message.content_type, message.data, region=deps.settings.default_phone_region
    )
    if read.problems is not None or read.referral is None:
        problems = read.problems.reasons() if read.problems else []
        _refuse(
            deps, replace(refusal, reasons=problems, partner_referral_id=read.claimed_reference)
        )
    referral = read.referral
    try:
        receipt = referrals.receive(deps, _sender(message, refusal), referral, form=read.form)
    except ConcurrentChange:
        raise
    except (Invalid, Conflict) as error:
        problems = (
            error.reasons()
            if isinstance(error, Invalid)
            else reason("partner_referral_id", error.message)
        )
        _refuse(
            deps,
            replace(
                refusal,
                reasons=problems,
                partner_referral_id=referral.partner_referral_id,
                referrer=_letter_referrer(referral),
                patient=_letter_patient(referral),
            ),
        )
    return receipt.outcome != "duplicate"


def cancel(deps: Deps, message: PartnerMessage) -> bool:
    """Cancel the partner's referral the message names; False for a repeat."""
    claimed = claimed_reference("native", message.data)
    refusal = _admit(deps, message, claimed)
    try:
        cancellation = read_cancellation(message.data, message.content_type)
        receipt = referrals.cancel(
            deps,
            _sender(message, refusal),
            reason=cancellation["reason"],
            partner_referral_id=cancellation["partner_referral_id"],
        )
    except Invalid as error:
        _refuse(deps, replace(refusal, reasons=error.reasons(), partner_referral_id=claimed))
    except NotFound:
        problem = reason("partner_referral_id", "no referral with this id from you at this clinic")
        _refuse(deps, replace(refusal, reasons=problem, partner_referral_id=claimed))
    return receipt.outcome != "duplicate"


def refuse_unreadable(
    deps: Deps, message: PartnerMessage, field: str, problem: str, tenant_id: str | None
) -> NoReturn:
    """A message that could not be read (body, envelope, headers, type): refused as such."""
    partner = deps.partners.get(message.user_id) if message.user_id else None
    refusal = Refusal(
        message_key=message.key,
        answers=message.answers,
        reasons=reason(field, problem),
        sender=message.user_id,
        partner_id=partner and partner["_id"],
        tenant_id=tenant_id,
        tenant_allowed=partner_gate.may_refer(partner, tenant_id),
    )
    _refuse(deps, refusal)


def _admit(deps: Deps, message: PartnerMessage, claimed: str | None) -> Refusal:
    """Pass the gate, or be refused. What a later refusal of this message starts from."""
    partner = deps.partners.get(message.user_id) if message.user_id else None
    problem = partner_gate.refusal(
        message.user_id, message.routing_key, message.type, message.tenant_id, partner
    )
    refusal = Refusal(
        message_key=message.key,
        answers=message.answers,
        reasons=[problem] if problem else [],
        sender=message.user_id,
        partner_id=partner and partner["_id"],
        tenant_id=message.tenant_id,
        tenant_allowed=problem is None,
        partner_referral_id=claimed,
    )
    if problem is not None:
        _refuse(deps, refusal)
    return refusal


def _letter_referrer(referral: Referral) -> dict[str, Any]:
    """Who the rejection letter goes to, and how it greets them ("Dr. Chen"): never at an email
    address kept as sent that did not validate (noticed)."""
    requester = referral.requester
    unusable = any(n.field == "requester.email" for n in referral.notices)
    return {
        "name": requester.name,
        "email": None if unusable else requester.email,
        "prefix": requester.prefix,
        "family_name": requester.family_name,
    }


def _letter_patient(referral: Referral) -> dict[str, Any]:
    """Whom the refused referral was for, as the prescriber will recognise it."""
    patient = referral.patient
    born = patient.birth_date.isoformat() if patient.birth_date else None
    return {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "birth_date": born,
    }


def _sender(message: PartnerMessage, admitted: Refusal) -> referrals.Sender:
    partner_id, tenant_id = admitted.partner_id or "", admitted.tenant_id or ""
    return referrals.Sender(
        tenant_id=tenant_id,
        partner_id=partner_id,
        actor=f"partner:{partner_id}",
        channel="amqp",
        message_key=message.key,
        answers=message.answers,
    )


def _refuse(deps: Deps, refusal: Refusal) -> NoReturn:
    """Record the refusal (once per message) with the partner's answer, audit it, raise Refused."""
    document = {
        "_id": refusal.refusal_id,
        "tenant_id": refusal.tenant_id,
        "partner_id": refusal.partner_id,
        "sender": refusal.sender,
        "partner_referral_id": refusal.partner_referral_id,
        "fields": refusal.fields,
        "at": deps.clock(),
    }
    answer = events.referral_rejected(
        refusal, status_format(deps, refusal.partner_id), _clinic_of(deps, refusal)
    )
    if PartnerRejections(deps.db).insert(document, answer):
        audit.record(
            deps.db,
            actor=f"partner:{refusal.sender or 'anonymous'}",
            tenant_id=refusal.tenant_id,
            action="partner_message.rejected",
            object_type="partner_message",
            object_id=refusal.refusal_id,
            outcome="rejected",
            detail="fields: " + ", ".join(refusal.fields),
        )
    raise Refused(summary(refusal.reasons))


def _clinic_of(deps: Deps, refusal: Refusal) -> TaskContext:
    """The clinic the refused message names: by name when the partner may refer to it, else by
    the id the partner sent only."""
    tenant_id = refusal.tenant_id or UNKNOWN_TENANT
    return clinic_context(deps, tenant_id, None if refusal.tenant_allowed else {})
