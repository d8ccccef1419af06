"""Patients: matched or registered from a referral, and their consent per channel.

Whether a referred patient is a stored one is `domain/patient_matching.decide`. A referral never
changes a stored patient's name, birth date, contact details or identifiers: a match only adds
the referral's location. A doubtful match (an identifier shared with a record whose birth date
or name disagrees) is never linked: the referral's patient is registered anew and both records
carry a `possible_duplicate` flag naming the other, for staff to settle.

Consent is recorded per channel ("Email OK", "Text OK"): from the referral when it says, from
the intake form, and changed by staff. When a referral says nothing, `default_consent` applies:
email is OK when an address is given (the intake link and appointment messages are part of
treatment), texts only with an explicit yes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from services.intake import events
from services.intake.domain.patient_matching import (
    MatchDecision,
    decide,
    match_keys,
    own_key,
    sender_scope,
    stored_identifiers,
    unclaimed,
)
from services.intake.domain.referral import ReferredPatient
from services.intake.errors import NotFound
from services.intake.repository import indexes as storage
from services.intake.repository.patient_data import Locations, Patients
from shared.events import outbox

CONTACT_FIELDS = ("given_name", "family_name", "email", "phone", "language")
POSSIBLE_DUPLICATE = "possible_duplicate"


def default_consent(patient: ReferredPatient) -> dict[str, bool]:
    return {"email": bool(patient.email), "sms": False}


def contact_of(patient: dict[str, Any]) -> dict[str, Any]:
    return {k: patient.get(k) for k in CONTACT_FIELDS}


def consent_of(patient: dict[str, Any]) -> dict[str, bool]:
    consent = patient.get("consent") or {}
    return {"email": bool(consent.get("email")), "sms": bool(consent.get("sms"))}


def _new_patient(
    tenant_id: str,
    referred: ReferredPatient,
    location_id: str,
    *,
    supplied_by: str,
    keys: list[str],
    flags: list[dict[str, Any]],
) -> dict[str, Any]:
    patient_id = storage.new_id("pat")
    now = datetime.now(UTC)
    fields = asdict(referred)
    consent = referred.consent or default_consent(referred)
    fields.pop("consent", None)
    document = {
        **fields,
        "_id": patient_id,
        "tenant_id": tenant_id,
        "birth_date": referred.birth_date.isoformat() if referred.birth_date else None,
        "identifiers": stored_identifiers(referred, supplied_by),
        "location_id": location_id,
        "location_ids": [location_id],
        "match_keys": [*keys, own_key(patient_id)],
        "consent": {**consent, "updated_at": now, "source": "referral"},
        "version": 1,
        "created_at": now,
    }
    if flags:
        document["flags"] = flags
    return document


def _registered_event(patient: dict[str, Any]) -> outbox.Outgoing:
    data = {
        "patient_id": patient["_id"],
        "location_id": patient["location_id"],
        "contact": contact_of(patient),
        "consent": consent_of(patient),
    }
    return events.internal("patient.registered", patient["tenant_id"], data, subject=patient["_id"])


@dataclass(frozen=True)
class Placement:
    """The patient a referral goes to, whether registered now, and the records to review beside it."""

    patient: dict[str, Any]
    registered: bool
    possible_duplicates: tuple[str, ...] = ()


def possible_duplicate_flag(other_id: str, reason: str, referral_id: str) -> dict[str, Any]:
    """The mark on a patient record that another record may be the same person (staff decide)."""
    return {
        "kind": POSSIBLE_DUPLICATE,
        "other_patient_id": other_id,
        "reason": reason,
        "referral_id": referral_id,
        "at": datetime.now(UTC),
    }


def _flag(
    repo: Patients, patient: Mapping[str, Any], other_id: str, reason: str, referral_id: str
) -> None:
    """Flag `patient` as a possible duplicate of `other_id`, once (a write only when new)."""
    if any(f.get("other_patient_id") == other_id for f in patient.get("flags", ())):
        return
    repo.update(
        {"_id": patient["_id"], "flags.other_patient_id": {"$ne": other_id}},
        {"$push": {"flags": possible_duplicate_flag(other_id, reason, referral_id)}},
    )


def _link(
    repo: Patients,
    decision: MatchDecision,
    candidates: list[dict[str, Any]],
    location_id: str,
    referral_id: str,
) -> Placement:
    """The matched patient gains the referral's location, nothing else; doubts are flagged."""
    found = dict(decision.match or {})
    if location_id not in found.get("location_ids", []):
        repo.update({"_id": found["_id"]}, {"$addToSet": {"location_ids": location_id}})
    others = {c["_id"]: c for c in candidates}
    for dup in decision.possible_duplicates:
        _flag(repo, found, dup.patient_id, dup.reason, referral_id)
        _flag(repo, others[dup.patient_id], found["_id"], dup.reason, referral_id)
    return Placement(found, False, tuple(d.patient_id for d in decision.possible_duplicates))


def _register(
    repo: Patients,
    referred: ReferredPatient,
    decision: MatchDecision,
    candidates: list[dict[str, Any]],
    location_id: str,
    *,
    supplied_by: str,
    keys: list[str],
    referral_id: str,
) -> Placement | None:
    """A new patient (with its event, in one write) beside its possible duplicates, flagged on both.

    It carries only the keys no candidate holds; None when a concurrent registration took one.
    """
    doubtful = decision.possible_duplicates
    patient = _new_patient(
        repo.tenant_id,
        referred,
        location_id,
        supplied_by=supplied_by,
        keys=unclaimed(keys, candidates),
        flags=[possible_duplicate_flag(d.patient_id, d.reason, referral_id) for d in doubtful],
    )
    try:
        repo.insert({**patient, **outbox.pending([_registered_event(patient)])})
    except DuplicateKeyError:
        return None
    others = {c["_id"]: c for c in candidates}
    for dup in doubtful:
        _flag(repo, others[dup.patient_id], patient["_id"], dup.reason, referral_id)
    return Placement(patient, True, tuple(d.patient_id for d in doubtful))


def match_or_register(
    db: Database,
    tenant_id: str,
    referred: ReferredPatient,
    location_id: str,
    *,
    partner_id: str | None,
    referral_id: str,
) -> Placement:
    """The tenant's patient this referred patient is, registering a new one when none matches.

    The rule is `patient_matching.decide`; each possible duplicate it finds is flagged on both
    records. A concurrent registration of the same person trips the unique match index, and
    the loser decides again (and matches the winner).
    """
    repo = Patients(db, tenant_id)
    supplied_by = sender_scope(partner_id)
    keys = match_keys(referred, supplied_by)
    for _ in range(3):
        candidates = repo.candidates(keys)
        decision = decide(referred, supplied_by, candidates)
        if decision.match is not None:
            return _link(repo, decision, candidates, location_id, referral_id)
        placement = _register(
            repo,
            referred,
            decision,
            candidates,
            location_id,
            supplied_by=supplied_by,
            keys=keys,
            referral_id=referral_id,
        )
        if placement is not None:
            return placement
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
