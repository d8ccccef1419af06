"""Which stored patient a referred patient is: the match keys of a patient, and the pick among candidates.

A patient is the same person when an identifier (system and value) matches within the tenant;
else when the family name, birth date and the email or the phone match. Keys never cross
tenants: they are only compared within one tenant (the unique index leads with `tenant_id`).
Every patient also carries a key of its own id, so a patient with no identifier and no contact
still has a unique key.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from .referral import ReferredPatient

IDENTIFIER = "id:"
NAME_BIRTH_EMAIL = "nbe:"
NAME_BIRTH_PHONE = "nbp:"
OWN_ID = "pid:"


def _fold(text: str) -> str:
    """Case, accents and spacing do not make another person: 'Álvarez ' == 'alvarez'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def identifier_keys(identifiers: Iterable[Mapping[str, Any]]) -> list[str]:
    return [
        f"{IDENTIFIER}{i.get('system') or ''}|{i['value']}" for i in identifiers if i.get("value")
    ]


def match_keys(patient: ReferredPatient) -> list[str]:
    """The keys a referred patient can be matched by (strongest first); empty when it has none."""
    keys = identifier_keys({"system": i.system, "value": i.value} for i in patient.identifiers)
    family, born = _fold(patient.family_name), patient.birth_date
    if family and isinstance(born, date):
        if patient.email:
            keys.append(f"{NAME_BIRTH_EMAIL}{family}|{born.isoformat()}|{patient.email.lower()}")
        if patient.phone:
            keys.append(f"{NAME_BIRTH_PHONE}{family}|{born.isoformat()}|{patient.phone}")
    return list(dict.fromkeys(keys))


def own_key(patient_id: str) -> str:
    return f"{OWN_ID}{patient_id}"


def pick(keys: Sequence[str], candidates: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The candidate sharing an identifier key, else one sharing a name-and-contact key."""
    wanted_ids = {k for k in keys if k.startswith(IDENTIFIER)}
    wanted_names = set(keys) - wanted_ids
    for wanted in (wanted_ids, wanted_names):
        for candidate in candidates:
            if wanted & set(candidate.get("match_keys", ())):
                return candidate
    return None
