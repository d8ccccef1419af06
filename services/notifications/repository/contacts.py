"""The contact directory (`contacts`): one document per patient.

`_id` = "<tenant>#<patient>" (tenant ids, CloudEvents tokens, cannot contain "#").

Intake's events set the contact and consent; an event older than the last one applied is
ignored (`source_time`), so redelivery and reordering are harmless (a late event's facts about
its own referral, `referrals.<referral_id>`, are still kept where none are). The patient's own choices
(`opted_out_channels`) are written only by the preferences API, the unsubscribe link and STOP
replies, never by events.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from shared.tenancy import TenantScoped


def contact_id(tenant_id: str, patient_id: str) -> str:
    return f"{tenant_id}#{patient_id}"


class ContactDirectory:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    def apply(
        self, tenant_id: str, patient_id: str, fields: Mapping[str, Any], at: datetime
    ) -> tuple[bool, dict[str, Any] | None]:
        """Apply an event's fields if newer than what is stored: (applied, contact after)."""
        _id = contact_id(tenant_id, patient_id)
        scoped = TenantScoped(self.collection, tenant_id)
        try:
            contact = scoped.find_one_and_update(
                {"_id": _id, "$or": [{"source_time": {"$lt": at}}, {"source_time": None}]},
                {
                    "$set": {**fields, "source_time": at},
                    "$setOnInsert": {"patient_id": patient_id, "opted_out_channels": []},
                },
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:  # stored is as new or newer: a repeat or a late event
            self._keep_referral_facts(scoped, _id, fields)
            return False, self.get(tenant_id, patient_id)
        return True, contact

    def _keep_referral_facts(
        self, scoped: TenantScoped, _id: str, fields: Mapping[str, Any]
    ) -> None:
        """A late event still leaves its referral's facts where none are kept yet (they are
        that referral's own: newer events about the patient do not replace them)."""
        for key, value in fields.items():
            if key.startswith("referrals."):
                scoped.update_one({"_id": _id, key: {"$exists": False}}, {"$set": {key: value}})

    def get(self, tenant_id: str, patient_id: str) -> dict[str, Any] | None:
        return TenantScoped(self.collection, tenant_id).find_one(
            {"_id": contact_id(tenant_id, patient_id)}
        )

    def choose(
        self, tenant_id: str, patient_id: str, channel: str, receive: bool, now: datetime
    ) -> dict[str, Any] | None:
        """Record the patient's choice for `channel`; None if the patient is not known."""
        change = "$pull" if receive else "$addToSet"
        return TenantScoped(self.collection, tenant_id).find_one_and_update(
            {"_id": contact_id(tenant_id, patient_id)},
            {change: {"opted_out_channels": channel}, "$set": {"choices_updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )

    def with_phone(self, phone: str) -> list[dict[str, Any]]:
        """Every clinic's contact with this number (an inbound STOP names only the number)."""
        return list(self.collection.find({"phone": phone}, {"tenant_id": 1, "patient_id": 1}))
