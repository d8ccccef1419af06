"""What the patient search page asks and shows: the typed filters as the API's query, and one
row per patient (name, birth date, identifiers, phone, locations). Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.console.domain.places import Place, place_of
from services.console.domain.precautions import Precautions, precautions_of
from services.console.domain.times import on_day

FILTERS = ("name", "birth_date", "identifier", "phone")
FILTER_LABELS = {
    "name": "Name",
    "birth_date": "Date of birth",
    "identifier": "MRN or other identifier",
    "phone": "Phone",
}
MOST_TYPED = 200


@dataclass(frozen=True)
class PatientRow:
    patient_id: str
    name: str
    born: str
    identifiers: str
    phone: str
    locations: str
    precautions: Precautions | None = None
    """The latest intake's screening, as the patient record keeps it."""


def typed_filters(args: Mapping[str, str]) -> dict[str, str]:
    """The filters typed (trimmed; empty ones left out)."""
    found = {k: (args.get(k) or "").strip()[:MOST_TYPED] for k in FILTERS}
    return {k: v for k, v in found.items() if v}


def full_name(patient: Mapping[str, Any]) -> str:
    parts = (patient.get("given_name"), patient.get("family_name"))
    return " ".join(str(p) for p in parts if p) or "(no name)"


def row(patient: Mapping[str, Any], places: Iterable[Place]) -> PatientRow:
    listed = list(places)
    ids = ", ".join(str(i.get("value")) for i in patient.get("identifiers") or [] if i.get("value"))
    located = [place_of(listed, loc) for loc in patient.get("location_ids") or []]
    return PatientRow(
        patient_id=patient["patient_id"],
        name=full_name(patient),
        born=on_day(patient.get("birth_date")),
        identifiers=ids,
        phone=str(patient.get("phone") or ""),
        locations=", ".join(p.name for p in located if p is not None),
        precautions=precautions_of(patient.get("screening")),
    )
