"""Is a FHIR R4 resource valid, as a partner's system would read it? `fhir_problems` says what is not.

fhir.resources (R4B, the same as R4 for these resources) checks structure, types and
cardinality, but parses `contained` resources only as generic resources and checks no value
set. So, besides parsing the resource, this parses each contained resource as its own type,
checks the required codes of the resources a Task of ours holds against their FHIR R4 value
sets (listed here from the specification, not from the code under test), and checks that every
local reference (`#id`) names a contained resource and every contained resource is referenced
(FHIR's dom-3).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

REQUIRED_CODES: dict[tuple[str, str], tuple[str, ...]] = {
    ("Task", "status"): (
        "draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
        "in-progress", "on-hold", "failed", "completed", "entered-in-error",
    ),
    ("Task", "intent"): (
        "unknown", "proposal", "plan", "order", "original-order", "reflex-order",
        "filler-order", "instance-order", "option",
    ),
    ("Task", "priority"): ("routine", "urgent", "asap", "stat"),
    ("CarePlan", "status"): (
        "draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown",
    ),
    ("CarePlan", "intent"): ("proposal", "plan", "order", "option"),
    ("Goal", "lifecycleStatus"): (
        "proposed", "planned", "accepted", "active", "on-hold", "completed", "cancelled",
        "entered-in-error", "rejected",
    ),
    ("Observation", "status"): (
        "registered", "preliminary", "final", "amended", "corrected", "cancelled",
        "entered-in-error", "unknown",
    ),
}  # fmt: skip
ACTIVITY_STATUSES = (
    "not-started", "scheduled", "in-progress", "on-hold", "completed", "cancelled", "stopped",
    "unknown", "entered-in-error",
)  # fmt: skip


def fhir_problems(resource: dict[str, Any]) -> list[str]:
    """Every problem found (empty: valid)."""
    problems = _parse(resource, resource.get("resourceType", "?"))
    contained = resource.get("contained") or []
    for index, inner in enumerate(contained):
        problems += _parse(inner, f"contained[{index}]")
    ids = {inner.get("id") for inner in contained}
    local = {ref[1:] for ref in _references(resource) if ref.startswith("#")}
    problems += [f"reference '#{ref}' names no contained resource" for ref in sorted(local - ids)]
    problems += [f"contained {i!r} is referenced from nowhere (dom-3)" for i in sorted(ids - local)]
    return problems


def _parse(resource: dict[str, Any], where: str) -> list[str]:
    kind = resource.get("resourceType")
    try:
        get_fhir_model_class(str(kind)).model_validate(resource)
    except (KeyError, ValueError, ValidationError) as error:
        return [f"{where}: {error}"]
    problems = [
        f"{where}.{element}: {resource.get(element)!r} is not one of {', '.join(codes)}"
        for (type_, element), codes in REQUIRED_CODES.items()
        if type_ == kind and element in resource and resource[element] not in codes
    ]
    for index, activity in enumerate(resource.get("activity") or [] if kind == "CarePlan" else []):
        status = (activity.get("detail") or {}).get("status")
        if status is not None and status not in ACTIVITY_STATUSES:
            problems.append(f"{where}.activity[{index}].detail.status: {status!r}")
    return problems


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield value["reference"]
        for key, inner in value.items():
            if key != "contained":
                yield from _references(inner)
        for inner in value.get("contained") or []:
            yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)
