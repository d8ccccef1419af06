"""Which patient a referral goes to: a stored one it surely is, a new one, or nobody until staff say.

The rule is `domain/patient_matching.decide`. A referral never changes a stored patient's name,
birth date, contact details or identifiers: a match only adds the referral's location. A
doubtful match (an identifier shared with a record whose birth date or name disagrees, or several
records that match) places nobody: the referral waits for the clinic's review
(`domain/review.identity_item` names the records), and staff link it to a patient or register a
new one. Either answer records, on the patient chosen, that the other records are other people
(`distinct_from`), so the same doubt is not raised again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from services.intake import events
from services.intake.bootstrap import Deps
from services.intake.domain.patient import default_consent
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
from services.intake.repository.patients import Patients
from shared.errors import Invalid
from shared.events import outbox
from shared.ids import new_id
from shared.retry import retry_on_conflict


@dataclass(frozen=True)
class Placement:
    """The patient a referral goes to (None: nobody, for the `doubts` staff must settle)."""

    patient: dict[str, Any] | None
    registered: bool = False
    doubts: tuple[str, ...] = ()


def doubts_of(
    deps: Deps, tenant_id: str, referred: ReferredPatient, *, partner_id: str | None
) -> tuple[str, ...]:
    """The stored patients a referred one may be but is not surely (read only)."""
    supplied_by = sender_scope(partner_id)
    candidates = Patients(deps.db, tenant_id).candidates(match_keys(referred, supplied_by))
    return _doubts(decide(referred, supplied_by, candidates))


def _doubts(decision: MatchDecision) -> tuple[str, ...]:
    """Every record a doubtful decision involves: the match it would be (first), and the others."""
    if not decision.possible_duplicates:
        return ()
    matched = (decision.match["_id"],) if decision.match is not None else ()
    return matched + tuple(d.patient_id for d in decision.possible_duplicates)


def place_patient(
    deps: Deps,
    tenant_id: str,
    referred: ReferredPatient,
    location_id: str,
    *,
    partner_id: str | None,
) -> Placement:
    """The tenant's patient this referred patient surely is, or a new one; nobody on a doubt.

    A concurrent registration of the same person trips the unique match index, and the loser
    decides again (and matches the winner).
    """
    repo = Patients(deps.db, tenant_id)
    supplied_by = sender_scope(partner_id)
    keys = match_keys(referred, supplied_by)

    def attempt() -> Placement | None:
        candidates = repo.candidates(keys)
        decision = decide(referred, supplied_by, candidates)
        if decision.possible_duplicates:
            return Placement(None, doubts=_doubts(decision))
        if decision.match is not None:
            found = dict(decision.match)
            if location_id not in found.get("location_ids", []):
                repo.join(found["_id"], location_id, ())
            return Placement(found)
        patient = _new_patient(
            tenant_id, referred, location_id, deps.clock(), supplied_by, unclaimed(keys, candidates)
        )
        return Placement(patient, registered=True) if _insert(repo, patient) else None

    return retry_on_conflict(attempt, what="the patient's registration")


def link_patient(
    deps: Deps,
    tenant_id: str,
    patient_id: str,
    location_id: str,
    *,
    locations: Collection[str] | None,
    distinct_from: Iterable[str],
) -> dict[str, Any]:
    """Staff's answer "this is that patient": it gains the location and, as settled, the other
    records are other people. Invalid for a patient the caller cannot see."""
    repo = Patients(deps.db, tenant_id)
    patient = repo.get(patient_id, locations)
    if patient is None:
        raise Invalid.one("patient.link_to", f"no patient {patient_id!r} you may see")
    others = sorted(set(distinct_from) - {patient_id})
    repo.join(patient_id, location_id, others)
    return patient


def register_patient(
    deps: Deps,
    tenant_id: str,
    referred: ReferredPatient,
    location_id: str,
    *,
    partner_id: str | None,
    distinct_from: Iterable[str],
) -> dict[str, Any]:
    """Staff's answer "a new patient": registered with the keys no record holds, and recorded as
    another person than the records the referral pointed to."""
    repo = Patients(deps.db, tenant_id)
    supplied_by = sender_scope(partner_id)
    keys = match_keys(referred, supplied_by)

    def attempt() -> dict[str, Any] | None:
        held = unclaimed(keys, repo.candidates(keys))
        patient = _new_patient(tenant_id, referred, location_id, deps.clock(), supplied_by, held)
        patient["distinct_from"] = sorted(set(distinct_from))
        return patient if _insert(repo, patient) else None

    return retry_on_conflict(attempt, what="the patient's registration")


def _insert(repo: Patients, patient: dict[str, Any]) -> bool:
    """The new patient with its `patient.registered` event, in one write (False: a key is taken)."""
    return repo.insert({**patient, **outbox.pending([events.patient_registered(patient)])})


def _new_patient(
    tenant_id: str,
    referred: ReferredPatient,
    location_id: str,
    now: datetime,
    supplied_by: str,
    keys: list[str],
) -> dict[str, Any]:
    patient_id = new_id("pat")
    fields = asdict(referred)
    consent = referred.consent or default_consent(referred)
    fields.pop("consent", None)
    return {
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
