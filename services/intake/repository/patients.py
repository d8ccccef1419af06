"""Patients: found by their match keys, gaining locations and possible-duplicate flags."""

from __future__ import annotations

from collections.abc import Mapping
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

    def add_location(self, patient_id: str, location_id: str) -> None:
        self.scoped.update_one({"_id": patient_id}, {"$addToSet": {"location_ids": location_id}})

    def add_flag(self, patient_id: str, flag: Mapping[str, Any]) -> None:
        """Add a possible-duplicate flag, unless one naming the same other patient is there."""
        self.scoped.update_one(
            {"_id": patient_id, "flags.other_patient_id": {"$ne": flag["other_patient_id"]}},
            {"$push": {"flags": dict(flag)}},
        )
