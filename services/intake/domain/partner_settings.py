"""A partner's settings beyond the gate: the form of the status events it receives.

`status_format`: `native` (the default: JSON data as docs/partners.md lists it) or `fhir` (the
data is the referral's FHIR R4 Task, `datacontenttype: application/fhir+json`: `fhir_task`).
A partner stored before the setting existed has none and receives native status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NATIVE, FHIR = "native", "fhir"
STATUS_FORMATS = (NATIVE, FHIR)


def status_format_of(partner: Mapping[str, Any] | None) -> str:
    return (partner or {}).get("status_format") or NATIVE


def status_format_problem(value: str) -> dict[str, list[str]]:
    """`{status_format: [message]}` for a value that is not a status format; empty if it is."""
    if value in STATUS_FORMATS:
        return {}
    return {"status_format": [f"{value!r} is not one of {', '.join(STATUS_FORMATS)}"]}
