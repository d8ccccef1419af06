"""Intakes: one per referral (the unique index makes a second one fail)."""

from __future__ import annotations

from services.intake.repository.indexes import INTAKES
from services.intake.repository.patient_data import PatientData


class Intakes(PatientData):
    collection_name = INTAKES

    def exists_for(self, referral_id: str) -> bool:
        return self.scoped.find_one({"referral_id": referral_id}, {"_id": 1}) is not None
