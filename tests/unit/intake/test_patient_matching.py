from __future__ import annotations

from datetime import date

import pytest

from services.intake.domain.patient_matching import match_keys, own_key, pick
from services.intake.domain.referral import Identifier, ReferredPatient


def patient(**changes) -> ReferredPatient:
    base = {
        "given_name": "Maria",
        "family_name": "Álvarez",
        "birth_date": date(1978, 4, 12),
        "email": "Maria@Example.com",
        "phone": "+16175550134",
        "identifiers": [Identifier("MRN-1", "urn:mrn")],
    }
    return ReferredPatient(**{**base, **changes})


def test_keys_are_identifiers_then_name_birth_and_each_contact():
    assert match_keys(patient()) == [
        "id:urn:mrn|MRN-1",
        "nbe:alvarez|1978-04-12|maria@example.com",
        "nbp:alvarez|1978-04-12|+16175550134",
    ]


@pytest.mark.parametrize(
    "changes",
    [{"birth_date": None}, {"family_name": ""}, {"email": None, "phone": None}],
    ids=["no-birth-date", "no-family-name", "no-contact"],
)
def test_without_name_birth_date_and_contact_only_identifiers_match(changes):
    assert match_keys(patient(**changes)) == ["id:urn:mrn|MRN-1"]


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (
            [
                {"_id": "by-name", "match_keys": ["nbe:alvarez|1978-04-12|maria@example.com"]},
                {"_id": "by-id", "match_keys": ["id:urn:mrn|MRN-1"]},
            ],
            "by-id",
        ),
        ([{"_id": "by-phone", "match_keys": ["nbp:alvarez|1978-04-12|+16175550134"]}], "by-phone"),
        ([{"_id": "other", "match_keys": ["id:urn:mrn|MRN-2", own_key("other")]}], None),
        ([], None),
    ],
    ids=["identifier-wins", "name-birth-phone", "no-shared-key", "none"],
)
def test_pick_prefers_an_identifier_match(candidates, expected):
    found = pick(match_keys(patient()), candidates)
    assert (found or {}).get("_id") == expected
