"""Third-party FHIR referrals from `../shared/fhir-examples/` (next to the repository, never copied
into it), with the validity window moved to start today when today lies outside it (that folder's
README asks tests to do so)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parents[1].parent / "shared" / "fhir-examples"


def third_party(name: str, today: date | None = None) -> dict[str, Any]:
    """The example bundle `name`, valid on `today` (default: the UTC date)."""
    path = FOLDER / name
    if not path.is_file():
        raise AssertionError(
            f"{path.name} is not in ../shared/fhir-examples/ (next to the repository): "
            "the third-party FHIR examples are needed for this test"
        )
    bundle = json.loads(path.read_text(encoding="utf-8"))
    _valid_on(bundle, today or datetime.now(UTC).date())
    return bundle


def _valid_on(bundle: dict[str, Any], today: date) -> None:
    """Move the ServiceRequest's validity (an occurrencePeriod, or its timing's boundsPeriod)
    forward to start today when today is past its end or before its start."""
    for entry in bundle.get("entry", []):
        request = entry.get("resource") or {}
        if request.get("resourceType") != "ServiceRequest":
            continue
        repeat = (request.get("occurrenceTiming") or {}).get("repeat") or {}
        period = request.get("occurrencePeriod") or repeat.get("boundsPeriod")
        if not period or "start" not in period:
            continue
        start = date.fromisoformat(period["start"][:10])
        end = date.fromisoformat(period["end"][:10]) if "end" in period else None
        if start > today or (end is not None and end < today):
            shift = today - start
            period["start"] = str(start + shift)
            if end is not None:
                period["end"] = str(end + shift)


def patient_of(bundle: dict[str, Any]) -> dict[str, Any]:
    return next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
