"""Partners (referral networks, EHRs): not tenant data; each names the tenants it may refer to.

Its id is its AMQP user name. `status_queue_declared` records whether the worker has declared
its status queue on the broker (`partner_queues/`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database

from services.intake.repository.indexes import PARTNERS
from services.intake.repository.unique import inserted
from shared.paging import Page, PageRequest
from shared.tenancy import find_page


class Partners:
    def __init__(self, db: Database) -> None:
        self.collection = db[PARTNERS]

    def get(self, partner_id: str) -> dict[str, Any] | None:
        return self.collection.find_one({"_id": partner_id})

    def insert(self, document: Mapping[str, Any]) -> bool:
        """The new partner; False when its id is taken."""
        return inserted(self.collection.insert_one, document)

    def set_allowed(self, partner_id: str, tenant_id: str, allowed: bool) -> dict[str, Any] | None:
        """Add the tenant to (or take it from) the partner's tenants; the partner, or None."""
        operator = "$addToSet" if allowed else "$pull"
        return self.collection.find_one_and_update(
            {"_id": partner_id},
            {operator: {"tenants": tenant_id}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    def set_status_format(self, partner_id: str, status_format: str) -> dict[str, Any] | None:
        """The partner with its new status format, or None when there is no such partner."""
        return self.collection.find_one_and_update(
            {"_id": partner_id},
            {"$set": {"status_format": status_format}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    def disable(self, partner_id: str, at: Any) -> dict[str, Any] | None:
        """Mark the partner disabled (once); the partner, or None when there is none."""
        return self.collection.find_one_and_update(
            {"_id": partner_id},
            {"$set": {"disabled": True, "disabled_at": at}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    def page_of_tenant(self, tenant_id: str, request: PageRequest) -> Page[dict[str, Any]]:
        """The partners that may refer to the tenant, by id (their names and status formats)."""
        return find_page(
            self.collection,
            {"tenants": tenant_id},
            request,
            sort=[("_id", 1)],
            projection={"name": 1, "status_format": 1},
        )

    def ids(self, only_undeclared: bool) -> list[str]:
        # Equality on the indexed flag (insert sets it False), so the poll is an index lookup;
        # all partners (at start): a whole-collection read on purpose.
        query = {"status_queue_declared": False} if only_undeclared else {}
        return [p["_id"] for p in self.collection.find(query, {"_id": 1})]

    def mark_declared(self, partner_ids: list[str]) -> None:
        self.collection.update_many(
            {"_id": {"$in": partner_ids}}, {"$set": {"status_queue_declared": True}}
        )
