"""Refused partner messages: one small document per message, holding no patient data.

Not always tenant data: a refused message may name no clinic, or one the partner may not refer
to, so a refusal is stored under whatever it names (`tenant_id` may be None).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.database import Database

from services.intake.repository.indexes import PARTNER_REJECTIONS
from services.intake.repository.unique import inserted
from shared.events import outbox
from shared.events.outbox import Outgoing


class PartnerRejections:
    def __init__(self, db: Database) -> None:
        self.collection = db[PARTNER_REJECTIONS]

    def insert(self, document: Mapping[str, Any], events: Sequence[Outgoing]) -> bool:
        """The refusal with its events; False when this message was refused before (same id)."""
        return inserted(self.collection.insert_one, {**document, **outbox.pending(events)})
