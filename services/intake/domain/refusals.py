"""Refused partner messages: audited, answered to the partner, never processed.

A refusal is one small `partner_rejections` document whose id derives from the message's key,
so a redelivered message is refused once. Its outbox carries, when the partner is known, a
`referral.rejected` status event to that partner alone (`partner.status`,
`<partner_id>.referral.rejected`), and, when the partner may refer to the clinic, the internal
`referral.rejected`. Neither the document nor the audit record holds patient data: they keep
the field paths at fault; the messages go only to the partner, who sent the data.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from services.intake import events
from services.intake.repository import indexes as storage
from shared import audit
from shared.events import outbox

UNKNOWN_TENANT = "unknown"
CONTACT_FIELD = re.compile(r"telecom|email|phone", re.IGNORECASE)
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


@dataclass(frozen=True)
class Refusal:
    message_key: str  # the message's idempotency key (event key, else message id or body hash)
    reasons: Sequence[dict[str, str]]  # [{field, message}]
    sender: str | None  # the AMQP user id as sent (None: not set)
    partner_id: str | None = None  # set only for a known partner
    tenant_id: str | None = None  # the clinic the message names, if it names one
    tenant_allowed: bool = False  # the partner may refer to that clinic
    partner_referral_id: str | None = None
    referral_id: str | None = None
    referrer: dict[str, Any] | None = field(default=None)


def redacted(reason: dict[str, str]) -> str:
    """`field: message`, with quoted values of contact fields hidden (this goes to logs and DLQ headers)."""
    message = reason["message"]
    if CONTACT_FIELD.search(reason["field"]):
        message = QUOTED.sub("'***'", message)
    return f"{reason['field']}: {message}"


def summary(reasons: Sequence[dict[str, str]]) -> str:
    return "referral refused: " + "; ".join(redacted(r) for r in reasons)


def _document_id(refusal: Refusal) -> str:
    return hashlib.sha256(f"{refusal.sender or '-'}|{refusal.message_key}".encode()).hexdigest()[
        :32
    ]


def _events(refusal: Refusal) -> list[outbox.Outgoing]:
    if refusal.partner_id is None:
        return []
    tenant_id = refusal.tenant_id or UNKNOWN_TENANT
    status = events.partner_status(
        refusal.partner_id,
        "referral.rejected",
        tenant_id,
        partner_referral_id=refusal.partner_referral_id,
        referral_id=refusal.referral_id,
        reasons=refusal.reasons,
    )
    if not refusal.tenant_allowed:
        return [status]
    data = {
        "partner_id": refusal.partner_id,
        "partner_referral_id": refusal.partner_referral_id,
        "reasons": [dict(r) for r in refusal.reasons],
        "referrer": refusal.referrer,
    }
    return [status, events.internal("referral.rejected", tenant_id, data, refusal.referral_id)]


def record(db: Database, refusal: Refusal) -> bool:
    """Save the refusal with its events and audit it; False when this message was refused before."""
    fields = list(dict.fromkeys(r["field"] for r in refusal.reasons))
    document_id = _document_id(refusal)
    document = {
        "_id": document_id,
        "tenant_id": refusal.tenant_id,
        "partner_id": refusal.partner_id,
        "sender": refusal.sender,
        "partner_referral_id": refusal.partner_referral_id,
        "fields": fields,
        "at": datetime.now(UTC),
    }
    try:
        db[storage.PARTNER_REJECTIONS].insert_one({**document, **outbox.pending(_events(refusal))})
    except DuplicateKeyError:
        return False
    audit.record(
        db,
        actor=f"partner:{refusal.sender or 'anonymous'}",
        tenant_id=refusal.tenant_id,
        action="partner_message.rejected",
        object_type="partner_message",
        object_id=document_id,
        outcome="rejected",
        detail="fields: " + ", ".join(fields),
    )
    return True
