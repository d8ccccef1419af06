"""Which stored patient a referred patient is: the match keys of a patient, and the decision.

An identifier key names who vouches for it: a national identifier (``national_identifiers.json``)
is shared by every sender of a clinic; any other system (an MRN) counts only for the sender that
used it (``partner:<id>``, or ``clinic`` for staff), so one partner's referral never reaches a
patient through another partner's identifier system. Keys never cross tenants (the unique
index leads with ``tenant_id``), and every patient carries a key of its own id, so a patient with
no identifier and no contact still has a unique key.

A referred patient is a stored one (``decide``) when
(a) they share an identifier key, and the birth date and the name agree (family names fold
    equal, or the stored one is a former name the referral documents; first given names fold
    equal, or one is the other's initial), or
(b) without a shared identifier: family name, first given name, birth date and an email or
    phone all agree (one key holds them all, so twins with other given names never share one);
and in neither case does the stored patient hold another value of an identifier system the
referral also carries. A shared identifier whose birth date or name disagrees is never a match:
that stored patient is a possible duplicate, for a person to settle (the referral waits for the
clinic's review). Once staff settled that two records are two people (`distinct_from` on the
record they chose), that pair is no longer a doubt.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .referral import ReferredPatient

IDENTIFIER = "sid:"  # scoped identifier: sid:<scope>|<system>|<value>
NAME_BIRTH_EMAIL = "ngbe:"  # family, first given name, birth date, email
NAME_BIRTH_PHONE = "ngbp:"
OWN_ID = "pid:"
NATIONAL = "national"
CLINIC = "clinic"

SAME_IDENTIFIER = "same_identifier_other_birth_date_or_name"
OTHER_IDENTIFIER_VALUE = "other_value_of_an_identifier_system"
SEVERAL_MATCHES = "several_records_match"

NATIONAL_SYSTEMS = frozenset(
    entry["system"]
    for entry in json.loads(
        resources.files(__package__).joinpath("national_identifiers.json").read_text("utf-8")
    )["systems"]
)

Candidate = Mapping[str, Any]


@dataclass(frozen=True)
class PossibleDuplicate:
    patient_id: str
    reason: str


@dataclass(frozen=True)
class MatchDecision:
    """The stored patient the referred one is (None: register a new one), and records to review."""

    match: Candidate | None
    possible_duplicates: tuple[PossibleDuplicate, ...] = ()


def sender_scope(partner_id: str | None) -> str:
    """Who vouches for the identifiers a sender supplies: the partner, or the clinic's staff."""
    return f"partner:{partner_id}" if partner_id else CLINIC


def _fold(text: str | None) -> str:
    """Case, accents and spacing do not make another person: 'Álvarez ' == 'alvarez'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def _first_given(given_name: str | None) -> str:
    words = _fold(given_name).split()
    return words[0] if words else ""


def _scope(system: str | None, supplied_by: str | None) -> str | None:
    return NATIONAL if system in NATIONAL_SYSTEMS else supplied_by


def _scoped_systems(
    identifiers: Iterable[Mapping[str, Any]],
) -> dict[tuple[str | None, str], set[str]]:
    """{(scope, system): values} of identifiers (as stored: each says who supplied it)."""
    found: dict[tuple[str | None, str], set[str]] = {}
    for i in identifiers:
        if i.get("value"):
            scope = _scope(i.get("system"), i.get("supplied_by"))
            found.setdefault((scope, i.get("system") or ""), set()).add(i["value"])
    return found


def stored_identifiers(patient: ReferredPatient, supplied_by: str) -> list[dict[str, Any]]:
    """The referred patient's identifiers as a patient record keeps them: with who supplied them."""
    return [
        {"value": i.value, "system": i.system, "supplied_by": supplied_by}
        for i in patient.identifiers
        if i.value
    ]


def match_keys(patient: ReferredPatient, supplied_by: str) -> list[str]:
    """The keys a referred patient can be matched by (identifiers first); empty when it has none."""
    identifiers = _scoped_systems(stored_identifiers(patient, supplied_by))
    keys = [
        f"{IDENTIFIER}{scope}|{system}|{value}"
        for (scope, system), values in identifiers.items()
        for value in sorted(values)
    ]
    family, given = _fold(patient.family_name), _first_given(patient.given_name)
    born = patient.birth_date
    if family and given and born is not None:
        person = f"{family}|{given}|{born.isoformat()}"
        if patient.email:
            keys.append(f"{NAME_BIRTH_EMAIL}{person}|{patient.email.lower()}")
        if patient.phone:
            keys.append(f"{NAME_BIRTH_PHONE}{person}|{patient.phone}")
    return list(dict.fromkeys(keys))


def own_key(patient_id: str) -> str:
    return f"{OWN_ID}{patient_id}"


def _given_agrees(one: str, other: str) -> bool:
    """The first given names fold equal, or one is the initial of the other ('J.' and 'John')."""
    a, b = one.rstrip("."), other.rstrip(".")
    if not a or not b:
        return False
    return a == b or (min(len(a), len(b)) == 1 and a[0] == b[0])


def _name_agrees(patient: ReferredPatient, stored: Candidate) -> bool:
    """The stored family name is the referral's current one or one it documents as former."""
    families = {_fold(patient.family_name)} | {_fold(n.family_name) for n in patient.former_names}
    family = _fold(stored.get("family_name"))
    given = _given_agrees(_first_given(patient.given_name), _first_given(stored.get("given_name")))
    return bool(family) and family in families and given


def _birth_agrees(patient: ReferredPatient, stored: Candidate) -> bool:
    born = patient.birth_date
    return born is not None and stored.get("birth_date") == born.isoformat()


def _other_identifier_value(patient: ReferredPatient, supplied_by: str, stored: Candidate) -> bool:
    """The stored patient holds other values of an identifier system (same scope) the referral has."""
    ours = _scoped_systems(stored_identifiers(patient, supplied_by))
    theirs = _scoped_systems(stored.get("identifiers") or ())
    return any(ours[system] != theirs[system] for system in ours.keys() & theirs.keys())


def decide(
    patient: ReferredPatient, supplied_by: str, candidates: Sequence[Candidate]
) -> MatchDecision:
    """Which candidate (stored patients sharing a key) the referred patient is, if any.

    An identifier match outranks a name-and-contact match. More than one equally good match is
    no match: each is a possible duplicate, and a person decides.
    """
    keys = set(match_keys(patient, supplied_by))
    identifier_keys = {k for k in keys if k.startswith(IDENTIFIER)}
    by_identifier: list[Candidate] = []
    by_contact: list[Candidate] = []
    doubtful: list[PossibleDuplicate] = []
    for candidate in candidates:
        shared = keys & set(candidate.get("match_keys", ()))
        if not shared:
            continue
        by_id = bool(shared & identifier_keys)
        agrees = _birth_agrees(patient, candidate) and _name_agrees(patient, candidate)
        if _other_identifier_value(patient, supplied_by, candidate):
            doubtful.append(PossibleDuplicate(candidate["_id"], OTHER_IDENTIFIER_VALUE))
        elif by_id and not agrees:
            doubtful.append(PossibleDuplicate(candidate["_id"], SAME_IDENTIFIER))
        elif agrees:  # a name-and-contact key agrees by construction; checked all the same
            (by_identifier if by_id else by_contact).append(candidate)
    best = by_identifier or by_contact
    if len(best) == 1:
        settled = set(best[0].get("distinct_from", ()))
        return MatchDecision(best[0], tuple(d for d in doubtful if d.patient_id not in settled))
    several = tuple(PossibleDuplicate(c["_id"], SEVERAL_MATCHES) for c in best)
    return MatchDecision(None, tuple(doubtful) + several)


def unclaimed(keys: Iterable[str], candidates: Sequence[Candidate]) -> list[str]:
    """The keys no candidate holds: what a new patient registered beside them may carry."""
    held = {k for c in candidates for k in c.get("match_keys", ())}
    return [k for k in keys if k not in held]
