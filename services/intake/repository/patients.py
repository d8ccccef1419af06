"""Patients: found by their match keys, gaining locations and the records staff said are others;
searched by staff (name prefix, birth date, identifier, phone) on the search key every write
keeps (`domain/patient_search.search_key`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.intake.domain.patient_search import (
    SEARCH_KEY_VERSION,
    folded_identifier,
    name_prefixes,
    prefix_range,
    search_key,
)
from services.intake.repository.indexes import PATIENTS
from services.intake.repository.patient_data import Locations, PatientData
from shared.paging import Page, PageRequest

BACKFILL_BATCH = 200
SEARCH_ORDER = [("search.sort", 1), ("_id", 1)]


class Patients(PatientData):
    collection_name = PATIENTS
    location_field = "location_ids"

    def candidates(self, keys: list[str]) -> list[dict[str, Any]]:
        """Every patient holding one of the keys (each key is unique: at most one per key)."""
        if not keys:
            return []
        return list(self.scoped.find({"match_keys": {"$in": keys}}).limit(len(keys)))

    def join(self, patient_id: str, location_id: str, distinct_from: list[str]) -> None:
        """The patient gains a location and, when staff settled it, the records that are other
        people (one write; each value once)."""
        added: dict[str, Any] = {"location_ids": location_id}
        if distinct_from:
            added["distinct_from"] = {"$each": distinct_from}
        self.scoped.update_one({"_id": patient_id}, {"$addToSet": added})

    def insert(self, document: Mapping[str, Any]) -> bool:
        """A new patient, with its search key. The key is written here only: what it holds (names,
        identifiers, phone) never changes on a stored patient (a referral never changes them;
        `join` and consent changes leave them alone). A write that changed them would have to
        write `search_key` with them."""
        return super().insert({**document, "search": search_key(document)})

    def search(
        self,
        locations: Locations,
        request: PageRequest,
        *,
        name: str | None = None,
        birth_date: str | None = None,
        identifier: str | None = None,
        phone: str | None = None,
    ) -> Page[dict[str, Any]]:
        """The patients matching every filter given, by family then given name. Each word of
        `name` is an anchored prefix of one of the patient's name words (a range on the index)."""
        where: list[dict[str, Any]] = []
        for prefix in name_prefixes(name or ""):
            low, high = prefix_range(prefix)
            # $elemMatch: both bounds on one word (a bare range on an array may be met by two)
            where.append({"search.words": {"$elemMatch": {"$gte": low, "$lt": high}}})
        if birth_date:
            where.append({"birth_date": birth_date})
        if identifier:
            where.append({"search.ids": folded_identifier(identifier)})
        if phone:
            where.append({"search.phone": phone})
        query: dict[str, Any] = {"$and": where} if len(where) > 1 else (where[0] if where else {})
        return self.page(locations, query, request, sort=SEARCH_ORDER)

    def note_screening(self, patient_id: str, screening: Mapping[str, Any]) -> None:
        """The latest intake's screening on the record: set unless a later intake's is there."""
        not_later = [
            {"screening.completed_at": {"$exists": False}},
            {"screening.completed_at": {"$lte": screening["completed_at"]}},
        ]
        self.scoped.update_one(
            {"_id": patient_id, "$or": not_later}, {"$set": {"screening": dict(screening)}}
        )

    def backfill_search(self) -> int:
        """Give every patient without a current search key one (an ops task); how many changed."""
        stale = {"$or": [{"search.v": {"$ne": SEARCH_KEY_VERSION}}, {"search": None}]}
        changed = 0
        while True:
            batch = list(self.scoped.find(stale).limit(BACKFILL_BATCH))
            if not batch:
                return changed
            for patient in batch:
                self.scoped.update_one(
                    {"_id": patient["_id"]}, {"$set": {"search": search_key(patient)}}
                )
                changed += 1
