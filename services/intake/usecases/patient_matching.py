"""Which patient a referral goes to: a stored one it surely is, or a new one (never another person).

The rule is `domain/patient_matching.decide`. A referral never changes a stored patient's name,
birth date, contact details or identifiers: a match only adds the referral's location. A
doubtful match (an identifier shared with a record whose birth date or name disagrees) is never
linked: the referral's patient is registered anew and both records carry a `possible_duplicate`
flag naming the other, for staff to settle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from services.intake import events
from services.intake.bootstrap import Deps
from services.intake.domain.patient import default_consent, is_flagged_with, possible_duplicate_flag
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
from shared.events import outbox
from shared.ids import new_id
from shared.retry import retry_on_conflict


@dataclass(frozen=True)
class Placement:
    """The patient a referral goes to, whether registered now, and the records to review beside it."""

    patient: dict[str, Any]
    registered: bool
    possible_duplicates: tuple[str, ...] = ()


def match_or_register(
    deps: Deps,
    tenant_id: str,
    referred: ReferredPatient,
    location_id: str,
    *,
    partner_id: str | None,
    referral_id: str,
) -> Placement:
    """The tenant's patient this referred patient is, registering a new one when none matches.

    Each possible duplicate the rule finds is flagged on both records. A concurrent registration
    of the same person trips the unique match index, and the loser decides again (and matches
    the winner).
    """
    repo = Patients(deps.db, tenant_id)
    supplied_by = sender_scope(partner_id)
    keys = match_keys(referred, supplied_by)

    def attempt() -> Placement | None:
        candidates = repo.candidates(keys)
        decision = decide(referred, supplied_by, candidates)
        if decision.match is not None:
            return _link(deps, repo, decision, candidates, location_id, referral_id)
        return _register(
            deps,
            repo,
            referred,
            decision,
            candidates,
            location_id,
            supplied_by=supplied_by,
            keys=keys,
            referral_id=referral_id,
        )

    return retry_on_conflict(attempt, what="the patient's registration")


def _link(
    deps: Deps,
    repo: Patients,
    decision: MatchDecision,
    candidates: list[dict[str, Any]],
    location_id: str,
    referral_id: str,
) -> Placement:
    """The matched patient gains the referral's location, nothing else; doubts are flagged."""
    found = dict(decision.match or {})
    if location_id not in found.get("location_ids", []):
        repo.add_location(found["_id"], location_id)
    others = {c["_id"]: c for c in candidates}
    for dup in decision.possible_duplicates:
        _flag(deps, repo, found, dup.patient_id, dup.reason, referral_id)
        _flag(deps, repo, others[dup.patient_id], found["_id"], dup.reason, referral_id)
    return Placement(found, False, tuple(d.patient_id for d in decision.possible_duplicates))


def _register(
    deps: Deps,
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
    now = deps.clock()
    doubtful = decision.possible_duplicates
    patient = _new_patient(
        repo.tenant_id,
        referred,
        location_id,
        now,
        supplied_by=supplied_by,
        keys=unclaimed(keys, candidates),
        flags=[possible_duplicate_flag(d.patient_id, d.reason, referral_id, now) for d in doubtful],
    )
    if not repo.insert({**patient, **outbox.pending([events.patient_registered(patient)])}):
        return None
    others = {c["_id"]: c for c in candidates}
    for dup in doubtful:
        _flag(deps, repo, others[dup.patient_id], patient["_id"], dup.reason, referral_id)
    return Placement(patient, True, tuple(d.patient_id for d in doubtful))


def _flag(
    deps: Deps,
    repo: Patients,
    patient: Mapping[str, Any],
    other_id: str,
    reason: str,
    referral_id: str,
) -> None:
    """Flag `patient` as a possible duplicate of `other_id`, once (a write only when new)."""
    if not is_flagged_with(patient, other_id):
        flag = possible_duplicate_flag(other_id, reason, referral_id, deps.clock())
        repo.add_flag(patient["_id"], flag)


def _new_patient(
    tenant_id: str,
    referred: ReferredPatient,
    location_id: str,
    now: datetime,
    *,
    supplied_by: str,
    keys: list[str],
    flags: list[dict[str, Any]],
) -> dict[str, Any]:
    patient_id = new_id("pat")
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
