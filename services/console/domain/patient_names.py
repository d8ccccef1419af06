"""A patient's name as the pages of the calendar show it, and many patients' names at once
(from one `GET /patients` of their ids: never a call per row)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

UNSHOWN = "a patient you may not see"


def name_of(patient: Mapping[str, Any]) -> str:
    given, family = patient.get("given_name"), patient.get("family_name")
    return " ".join(str(p) for p in (given, family) if p) or UNSHOWN


def names_of(patients: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """patient id -> name."""
    return {p["patient_id"]: name_of(p) for p in patients}
