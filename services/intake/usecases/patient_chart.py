"""A patient's chart as intake knows it: the record, its referrals and its intakes in one read."""

from __future__ import annotations

from typing import Any

from services.intake.bootstrap import Deps
from services.intake.repository.intakes import Intakes
from services.intake.usecases.patients import get_patient
from services.intake.usecases.referrals import list_referrals
from shared.paging import PageRequest
from shared.web.auth import Principal

SUMMARY_ITEMS = 20
NEWEST_INTAKE_FIRST = [("completed_at", -1), ("_id", -1)]


def patient_summary(deps: Deps, principal: Principal, patient_id: str) -> dict[str, Any]:
    """The patient with their latest referrals and intakes (each screening with its reasons and
    clearances): the patient's chart in one answer. 404 for a patient the caller may not see."""
    patient = get_patient(deps, principal, patient_id)
    first = PageRequest(1, SUMMARY_ITEMS)
    referrals = list_referrals(deps, principal, {"patient_id": patient_id}, first)
    intakes = Intakes(deps.db, principal.tenant_id).page(
        principal.locations, {"patient_id": patient_id}, first, sort=NEWEST_INTAKE_FIRST
    )
    return {
        "patient": patient,
        "referrals": referrals.items,
        "referrals_total": referrals.total,
        "intakes": intakes.items,
        "intakes_total": intakes.total,
    }
