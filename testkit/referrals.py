"""Referrals as a partner sends them: the intake service's own examples (native and FHIR), with
dates moved to around today and a fresh partner referral id each time."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

EXAMPLES = resources.files("services.intake.partner_forms") / "examples"


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def _dates() -> dict[str, str]:
    """Valid from yesterday (UTC): a clinic west of UTC may still be on yesterday's date, and a
    session booked there now must fall within the referral at any hour of the UTC day."""
    today = datetime.now(UTC).date()
    return {
        "authored_on": (today - timedelta(days=2)).isoformat(),
        "valid_from": (today - timedelta(days=1)).isoformat(),
        "expires_on": (today + timedelta(days=90)).isoformat(),
    }


def native_referral(**changes: Any) -> dict[str, Any]:
    """The native example, valid now, with a fresh partner referral id unless given."""
    referral = example("referral_native.json")
    referral.pop("tenant_id", None)
    referral.update(_dates())
    referral["partner_referral_id"] = f"REF-{uuid.uuid4().hex[:10]}"
    referral.update(changes)
    return referral


def fhir_referral(partner_referral_id: str | None = None) -> dict[str, Any]:
    """The FHIR example bundle, valid now, with a fresh partner referral id unless given."""
    bundle = copy.deepcopy(example("referral_bundle.json"))
    dates = _dates()
    request = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
    )
    request["occurrencePeriod"] = {"start": dates["valid_from"], "end": dates["expires_on"]}
    request["authoredOn"] = dates["authored_on"]
    request["identifier"][0]["value"] = partner_referral_id or f"REF-{uuid.uuid4().hex[:10]}"
    return bundle


def resource(bundle: dict[str, Any], kind: str, nth: int = 0) -> dict[str, Any]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind][nth]


def distinct_referral(n: int, **patient: Any) -> dict[str, Any]:
    """A referral for a new patient each time (the costliest case: a patient is registered);
    `patient` sets more of the patient's fields."""
    referral = native_referral()
    referral["patient"] = {
        **referral["patient"],
        "identifiers": [{"system": "urn:bench", "value": f"B-{uuid.uuid4().hex[:12]}"}],
        "family_name": f"Bench{n}",
        "email": f"bench{n}@example.org",
        "phone": None,
        **patient,
    }
    return referral
