"""Patients: matched or registered from a referral, and their consent per channel.

Consent is recorded per channel ("Email OK", "Text OK"): from the referral when it says, from
the intake form, and changed by staff. When a referral says nothing, `default_consent` applies:
email is OK when an address is given (the intake link and appointment messages are part of
treatment), texts only with an explicit yes.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from services.intake import events, storage
from services.intake.domain.patient_matching import identifier_keys, match_keys, own_key, pick
from services.intake.domain.referral import ReferredPatient
from services.intake.errors import NotFound
from services.intake.repository import Locations, Patients
from shared.events import outbox

CONTACT_FIELDS = ("given_name", "family_name", "email", "phone", "language")


def default_consent(patient: ReferredPatient) -> dict[str, bool]:
    return {"email": bool(patient.email), "sms": False}


def contact_of(patient: dict[str, Any]) -> dict[str, Any]:
    return {k: patient.get(k) for k in CONTACT_FIELDS}


def consent_of(patient: dict[str, Any]) -> dict[str, bool]:
    consent = patient.get("consent") or {}
    return {"email": bool(consent.get("email")), "sms": bool(consent.get("sms"))}


def _new_patient(
    tenant_id: str, referred: ReferredPatient, location_id: str, consent: dict[str, bool]
) -> dict[str, Any]:
    patient_id = storage.new_id("pat")
    now = datetime.now(UTC)
    fields = asdict(referred)
    fields.pop("consent", None)
    return {
        **fields,
        "_id": patient_id,
        "tenant_id": tenant_id,
        "birth_date": referred.birth_date.isoformat() if referred.birth_date else None,
        "location_id": location_id,
        "location_ids": [location_id],
        "match_keys": [*match_keys(referred), own_key(patient_id)],
        "consent": {**consent, "updated_at": now, "source": "referral"},
        "version": 1,
        "created_at": now,
    }


def _registered_event(patient: dict[str, Any]) -> outbox.Outgoing:
    data = {
        "patient_id": patient["_id"],
        "location_id": patient["location_id"],
        "contact": contact_of(patient),
        "consent": consent_of(patient),
    }
    return events.internal("patient.registered", patient["tenant_id"], data, subject=patient["_id"])


def _join(
    repo: Patients, found: dict[str, Any], referred: ReferredPatient, location_id: str
) -> None:
    """Remember the matched patient's new identifiers and location (a write only when new)."""
    identifiers = [
        asdict(i) for i in referred.identifiers if asdict(i) not in found.get("identifiers", [])
    ]
    new_location = location_id not in found.get("location_ids", [])
    if not identifiers and not new_location:
        return
    add = {"location_ids": location_id, "identifiers": {"$each": identifiers}}
    keys = {"match_keys": {"$each": identifier_keys(identifiers)}}
    try:
        repo.update({"_id": found["_id"]}, {"$addToSet": {**add, **keys}})
    except DuplicateKeyError:  # an identifier already names another patient: keep it there
        repo.update({"_id": found["_id"]}, {"$addToSet": add})


def match_or_register(
    db: Database, tenant_id: str, referred: ReferredPatient, location_id: str
) -> tuple[dict[str, Any], bool]:
    """The tenant's patient this referred patient is, registering a new one when none matches.

    Returns (patient, registered now). A new patient is saved with its `patient.registered`
    event in one write; a concurrent registration of the same person trips the unique match
    index, and the loser matches the winner.
    """
    repo = Patients(db, tenant_id)
    keys = match_keys(referred)
    for _ in range(3):
        found = pick(keys, repo.candidates(keys))
        if found is not None:
            _join(repo, dict(found), referred, location_id)
            return dict(found), False
        consent = referred.consent or default_consent(referred)
        patient = _new_patient(tenant_id, referred, location_id, dict(consent))
        try:
            repo.insert({**patient, **outbox.pending([_registered_event(patient)])})
        except DuplicateKeyError:
            continue
        return patient, True
    raise RuntimeError("patient registration kept colliding with concurrent registrations")


def change_consent(
    db: Database,
    tenant_id: str,
    patient_id: str,
    consent: dict[str, bool],
    *,
    source: str,
    locations: Locations = None,
) -> dict[str, Any]:
    """Record the patient's consent per channel; emits `patient.consent_changed` when it changes."""
    repo = Patients(db, tenant_id)
    for _ in range(3):
        patient = repo.get(patient_id, locations)
        if patient is None:
            raise NotFound(f"patient {patient_id!r}")
        wanted = {"email": bool(consent["email"]), "sms": bool(consent["sms"])}
        if consent_of(patient) == wanted:
            return patient
        stamped = {**wanted, "updated_at": datetime.now(UTC), "source": source}
        data = {"patient_id": patient_id, "consent": wanted}
        event = events.internal("patient.consent_changed", tenant_id, data, subject=patient_id)
        update = {"$set": {"consent": stamped}, "$inc": {"version": 1}}
        guarded = {"_id": patient_id, "version": patient["version"]}
        if repo.update(guarded, outbox.with_events(update, [event])).matched_count:
            return {**patient, "consent": stamped, "version": patient["version"] + 1}
    raise RuntimeError("the patient kept changing concurrently")
