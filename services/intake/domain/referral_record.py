"""The referral as the clinic keeps it: its terms, their fingerprint, its location, who may change it.

A referral is stored with its terms as JSON (dates as YYYY-MM-DD) and a hash of the terms and
location, so the same content sent again is recognised as a repeat, and changed content under
the same partner referral id is an amendment.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import asdict
from datetime import date
from typing import Any

from .referral import (
    Address,
    Identifier,
    PersonName,
    Referral,
    ReferredPatient,
    check_patient,
    check_terms,
)


def problems(referral: Referral, today: date) -> dict[str, list[str]]:
    """Every problem of the referral's patient and terms, by field path (empty: acceptable)."""
    errors: dict[str, list[str]] = {}
    for problem in [*check_patient(referral), *check_terms(referral, today)]:
        path, _, message = problem.partition(": ")
        errors.setdefault(path, []).append(message)
    return errors


def terms_of(referral: Referral) -> dict[str, Any]:
    """The referral as stored (JSON types: dates as YYYY-MM-DD), without tenant and location."""
    terms = asdict(referral)
    for key in ("tenant_id", "location_id"):
        terms.pop(key)
    return json.loads(json.dumps(terms, default=lambda d: d.isoformat()))


def referred_patient(stored: Mapping[str, Any]) -> ReferredPatient:
    """The referred patient as the stored terms keep it (`terms_of`), to match it later."""
    address = stored.get("address")
    born = stored.get("birth_date")
    return ReferredPatient(
        given_name=stored.get("given_name") or "",
        family_name=stored.get("family_name") or "",
        birth_date=date.fromisoformat(born) if born else None,
        gender=stored.get("gender"),
        email=stored.get("email"),
        phone=stored.get("phone"),
        language=stored.get("language"),
        identifiers=[
            Identifier(i["value"], i.get("system")) for i in stored.get("identifiers", [])
        ],
        address=Address(**address) if address else None,
        consent=stored.get("consent"),
        former_names=[PersonName(**n) for n in stored.get("former_names", [])],
    )


def content_hash(terms: Mapping[str, Any], location_id: str) -> str:
    canonical = json.dumps({"terms": terms, "location_id": location_id}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def location_for(
    clinic_locations: list[str], requested: str | None, allowed: Collection[str] | None
) -> tuple[str | None, str | None]:
    """(the referral's location, None), or (None, why not): the one asked for, else the clinic's
    first, among those the sender may use (`allowed` None: every one)."""
    if requested and requested not in clinic_locations:
        return None, f"{requested!r} is not a location of this clinic"
    asked = [requested] if requested else clinic_locations
    choices = [i for i in asked if allowed is None or i in allowed]
    if not choices:
        return None, "no location of this clinic that you may use"
    return choices[0], None


def may_change(
    referral: Mapping[str, Any], partner_id: str | None, locations: Collection[str] | None
) -> bool:
    """Staff at the referral's location; a partner only its own referrals."""
    in_location = locations is None or referral["location_id"] in locations
    own = not partner_id or referral.get("partner_id") == partner_id
    return in_location and own
