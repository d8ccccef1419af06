from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.intake.domain.patient_matching import (
    OTHER_IDENTIFIER_VALUE,
    SAME_IDENTIFIER,
    SEVERAL_MATCHES,
    MatchDecision,
    PossibleDuplicate,
    decide,
    match_keys,
    own_key,
    sender_scope,
    stored_identifiers,
    unclaimed,
)
from services.intake.domain.referral import Identifier, PersonName, ReferredPatient

ACME = sender_scope("acme-ehr")
OTHER_PARTNER = sender_scope("other-ehr")
MEDICARE = "http://hl7.org/fhir/sid/us-medicare"


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


def stored(referred: ReferredPatient, supplied_by: str = ACME, patient_id: str = "p1") -> dict:
    """The patient record a registration of `referred` from `supplied_by` leaves (the parts read)."""
    return {
        "_id": patient_id,
        "given_name": referred.given_name,
        "family_name": referred.family_name,
        "birth_date": referred.birth_date and referred.birth_date.isoformat(),
        "identifiers": stored_identifiers(referred, supplied_by),
        "match_keys": [*match_keys(referred, supplied_by), own_key(patient_id)],
    }


def test_keys_are_scoped_identifiers_then_name_given_name_birth_and_each_contact():
    assert match_keys(patient(), ACME) == [
        "sid:partner:acme-ehr|urn:mrn|MRN-1",
        "ngbe:alvarez|maria|1978-04-12|maria@example.com",
        "ngbp:alvarez|maria|1978-04-12|+16175550134",
    ]


def test_a_national_identifier_key_is_shared_by_every_sender_any_other_names_its_sender():
    both = patient(identifiers=[Identifier("1EG4TE5MK73", MEDICARE), Identifier("M1", "urn:mrn")])
    from_acme, from_staff = match_keys(both, ACME), match_keys(both, sender_scope(None))
    assert f"sid:national|{MEDICARE}|1EG4TE5MK73" in set(from_acme) & set(from_staff)
    assert "sid:partner:acme-ehr|urn:mrn|M1" in from_acme
    assert "sid:clinic|urn:mrn|M1" in from_staff


@pytest.mark.parametrize(
    "changes",
    [
        {"birth_date": None},
        {"family_name": ""},
        {"given_name": ""},
        {"email": None, "phone": None},
    ],
    ids=["no-birth-date", "no-family-name", "no-given-name", "no-contact"],
)
def test_without_name_birth_date_and_contact_only_identifiers_match(changes):
    assert match_keys(patient(**changes), ACME) == ["sid:partner:acme-ehr|urn:mrn|MRN-1"]


def test_twins_with_other_given_names_share_no_key():
    maria = patient(identifiers=[])
    ana = patient(identifiers=[], given_name="Ana")
    assert not set(match_keys(maria, ACME)) & set(match_keys(ana, ACME))
    assert decide(ana, ACME, [stored(maria)]) == MatchDecision(None)


@pytest.mark.parametrize(
    "referred",
    [
        patient(),
        patient(family_name="ALVAREZ ", given_name="maría"),
        patient(given_name="M."),
        patient(family_name="Okafor", former_names=[PersonName("Maria", "Alvarez")]),
        patient(email=None, phone=None),
    ],
    ids=["same", "case-accents-spacing", "initial", "documented-name-change", "no-contact"],
)
def test_a_shared_identifier_with_agreeing_birth_date_and_name_is_the_patient(referred):
    record = stored(patient())
    assert decide(referred, ACME, [record]) == MatchDecision(record)


@pytest.mark.parametrize(
    "referred",
    [
        patient(birth_date=date(1958, 11, 1)),
        patient(family_name="Smith-Johnson"),
        patient(given_name="Betsy"),
        patient(family_name="Okafor"),  # a new name the referral does not explain
    ],
    ids=["other-birth-date", "other-family-name", "other-given-name", "undocumented-change"],
)
def test_a_shared_identifier_whose_birth_date_or_name_disagrees_is_a_possible_duplicate(referred):
    decision = decide(referred, ACME, [stored(patient())])
    assert decision == MatchDecision(None, (PossibleDuplicate("p1", SAME_IDENTIFIER),))


def test_another_partners_identifier_system_never_matches():
    referred = patient(email=None, phone=None)
    assert not set(match_keys(referred, OTHER_PARTNER)) & set(stored(patient())["match_keys"])
    assert decide(referred, OTHER_PARTNER, [stored(patient())]) == MatchDecision(None)


def test_a_name_and_contact_match_holding_another_value_of_the_same_system_is_doubtful():
    record = stored(patient(identifiers=[Identifier("MRN-2", "urn:mrn")]))
    decision = decide(patient(), ACME, [record])
    assert decision == MatchDecision(None, (PossibleDuplicate("p1", OTHER_IDENTIFIER_VALUE),))


def test_without_an_identifier_name_given_name_birth_date_and_contact_match():
    record = stored(patient(identifiers=[]))
    assert decide(patient(identifiers=[], phone=None), ACME, [record]) == MatchDecision(record)


def test_an_identifier_match_outranks_a_name_and_contact_match():
    by_contact = stored(patient(identifiers=[]), patient_id="by-contact")
    by_id = stored(patient(email=None, phone=None), patient_id="by-id")
    assert decide(patient(), ACME, [by_contact, by_id]).match == by_id


def test_two_equally_good_matches_are_no_match_but_both_are_possible_duplicates():
    one = stored(patient(identifiers=[Identifier("A", MEDICARE)], email=None, phone=None), "x", "a")
    two = stored(patient(email=None, phone=None), patient_id="b")
    referred = patient(identifiers=[Identifier("A", MEDICARE), Identifier("MRN-1", "urn:mrn")])
    decision = decide(referred, ACME, [one, two])
    assert decision.match is None
    assert {d.patient_id for d in decision.possible_duplicates} == {"a", "b"}
    assert {d.reason for d in decision.possible_duplicates} == {SEVERAL_MATCHES}


def test_a_new_patient_beside_a_possible_duplicate_carries_only_the_keys_nobody_holds():
    betsy = patient(given_name="Betsy", birth_date=date(1958, 11, 1), email=None)
    keys = match_keys(betsy, ACME)
    assert unclaimed(keys, [stored(patient())]) == keys[1:]


# --- property: different birth dates never make one patient ---------------------------------

SYSTEMS = ("urn:mrn", MEDICARE, None)
names = st.sampled_from(["Álvarez", "alvarez", "Smith", "Smith-Johnson", "Everywoman"])
given_names = st.sampled_from(["Eve", "E", "Eve L", "Betsy", "B.", "maria"])
referred_patients = st.builds(
    ReferredPatient,
    given_name=given_names,
    family_name=names,
    birth_date=st.dates(date(1950, 1, 1), date(1950, 1, 3)),
    email=st.sampled_from([None, "a@example.com", "b@example.com"]),
    phone=st.sampled_from([None, "+16175550134"]),
    identifiers=st.lists(
        st.builds(Identifier, st.sampled_from(["1", "2"]), st.sampled_from(SYSTEMS)), max_size=2
    ),
    former_names=st.lists(st.builds(PersonName, given_names, names), max_size=2),
)
senders = st.sampled_from([ACME, OTHER_PARTNER, sender_scope(None)])


@given(referred_patients, senders, referred_patients, senders, st.integers(1, 400))
def test_two_referred_patients_whose_birth_dates_differ_never_match(
    first, first_sender, second, second_sender, days
):
    second = replace(second, birth_date=first.birth_date + timedelta(days=days))
    assert decide(second, second_sender, [stored(first, first_sender)]).match is None


@given(referred_patients, senders)
def test_the_same_patient_from_the_same_sender_matches_whenever_it_has_a_key(referred, sender):
    record = stored(referred, sender)
    expected = record if match_keys(referred, sender) else None
    assert decide(referred, sender, [record]).match == expected
