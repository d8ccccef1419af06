"""Patients: found by their match keys, gaining locations and the records staff said are others."""

from __future__ import annotations

from typing import Any

from services.intake.repository.indexes import PATIENTS
from services.intake.repository.patient_data import PatientData


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
