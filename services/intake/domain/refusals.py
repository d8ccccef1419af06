"""A refused partner message: what is kept of it, and how its reasons read in logs.

A refusal is kept once per message (its id derives from the sender and the message's key, so
a redelivered message is refused once). Neither the stored refusal nor the audit record holds
patient data: they keep the field paths at fault; the messages go only to the partner, who sent
the data, and to the dead-letter queue with contact values hidden.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
    patient: dict[str, Any] | None = field(default=None)  # {given_name, family_name, birth_date}
    answers: Mapping[str, str | None] | None = None  # {id, source} of the refused message

    @property
    def refusal_id(self) -> str:
        """One id per sender and message: a redelivered message is refused once."""
        key = f"{self.sender or '-'}|{self.message_key}"
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    @property
    def fields(self) -> list[str]:
        """The field paths at fault, once each, in order (what is kept; never the values)."""
        return list(dict.fromkeys(r["field"] for r in self.reasons))


def redacted(reason: dict[str, str]) -> str:
    """`field: message`, with quoted values of contact fields hidden (this goes to logs and DLQ headers)."""
    message = reason["message"]
    if CONTACT_FIELD.search(reason["field"]):
        message = QUOTED.sub("'***'", message)
    return f"{reason['field']}: {message}"


def summary(reasons: Sequence[dict[str, str]]) -> str:
    return "referral refused: " + "; ".join(redacted(r) for r in reasons)


def reason(field: str, message: str) -> list[dict[str, str]]:
    """One reason, as a list of reasons."""
    return [{"field": field, "message": message}]
