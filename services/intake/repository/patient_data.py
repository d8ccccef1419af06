"""Tenant-scoped access to intake's patient data: patients, referrals and intakes.

Every repository is built for one tenant (`TenantScoped` refuses a call without one), and the
read methods also take the caller's locations (None: all), so a principal limited to some
locations never receives another location's object. Another tenant's or location's object is
simply not found (the API answers 404).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, ClassVar

from pymongo.database import Database
from pymongo.results import InsertOneResult, UpdateResult

from services.intake.repository import indexes as storage
from shared.tenancy import TenantScoped

Locations = Collection[str] | None
HIDDEN = {"outbox": 0, "outbox_due": 0, "outbox_seq": 0, "applied_events": 0, "match_keys": 0}


class Repository:
    collection_name: ClassVar[str]
    location_field: ClassVar[str] = "location_id"

    def __init__(self, db: Database, tenant_id: str | None) -> None:
        self.scoped = TenantScoped(db[self.collection_name], tenant_id)
        self.tenant_id = self.scoped.tenant_id

    def _visible(self, locations: Locations) -> dict[str, Any]:
        return {} if locations is None else {self.location_field: {"$in": sorted(locations)}}

    def get(self, object_id: str, locations: Locations = None) -> dict[str, Any] | None:
        return self.scoped.find_one({"_id": object_id, **self._visible(locations)}, HIDDEN)

    def list(
        self,
        locations: Locations = None,
        where: Mapping[str, Any] | None = None,
        *,
        page: int = 1,
        page_size: int = 50,
    ) -> list[dict[str, Any]]:
        cursor = self.scoped.find({**(where or {}), **self._visible(locations)}, HIDDEN)
        return list(cursor.sort("_id", 1).skip((page - 1) * page_size).limit(page_size))

    def insert(self, document: Mapping[str, Any]) -> InsertOneResult:
        return self.scoped.insert_one(document)

    def update(self, where: Mapping[str, Any], update: Mapping[str, Any]) -> UpdateResult:
        return self.scoped.update_one(where, update)


class Patients(Repository):
    collection_name = storage.PATIENTS
    location_field = "location_ids"

    def candidates(self, keys: list[str]) -> list[dict[str, Any]]:
        """Every patient holding one of the keys (each key is unique: at most one per key)."""
        if not keys:
            return []
        return list(self.scoped.find({"match_keys": {"$in": keys}}).limit(len(keys)))


class Referrals(Repository):
    collection_name = storage.REFERRALS

    def by_partner_reference(self, partner_id: str | None, partner_referral_id: str) -> dict | None:
        return self.scoped.find_one(
            {"partner_id": partner_id, "partner_referral_id": partner_referral_id}
        )

    def get_full(self, referral_id: str) -> dict[str, Any] | None:
        """With the bookkeeping fields (applied events), for the use cases that update it."""
        return self.scoped.find_one({"_id": referral_id}, {"outbox": 0})


class Intakes(Repository):
    collection_name = storage.INTAKES
