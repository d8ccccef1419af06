from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.intake.domain.referral import (
    ContactError,
    Diagnosis,
    Referral,
    ReferredPatient,
    Requester,
    VisitsPerPeriod,
    check_terms,
    normalise_contact,
    validate_icd10,
)

TODAY = date(2026, 10, 30)


def make_referral(**changes) -> Referral:
    referral = Referral(
        partner_referral_id="REF-2026-10-4471",
        status="active",
        priority="routine",
        patient=ReferredPatient("Maria", "Alvarez", birth_date=date(1978, 4, 12)),
        diagnoses=[Diagnosis("M54.50", "Low back pain, unspecified"), Diagnosis("M54.2")],
        requester=Requester("David Chen", npi="1234567893"),
        authorized_visits=8,
        valid_from=date(2026, 11, 1),
        expires_on=date(2027, 1, 29),
        authored_on=date(2026, 10, 28),
    )
    return replace(referral, **changes)


@pytest.mark.parametrize(
    ("code", "normalised"),
    [
        ("M54.50", "M54.50"),
        ("M5450", "M54.50"),
        (" m54.2 ", "M54.2"),
        ("M54.59", "M54.59"),
        ("M79.7", "M79.7"),
        ("M62.838", "M62.838"),
        ("G44.209", "G44.209"),
        ("S134XXA", "S13.4XXA"),
        ("M54.5", None),  # a category since FY2022: not billable
        ("M79.1", None),  # category: M79.10-M79.18 are billable
        ("M54", None),
        ("M50-M54", None),  # a block
        ("X99.99", None),
        ("", None),
    ],
)
def test_validate_icd10_accepts_only_billable_codes_and_adds_the_dot(code, normalised):
    assert validate_icd10(code) == normalised


def test_a_sound_referral_has_no_problems():
    assert check_terms(make_referral(), TODAY) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"expires_on": date(2026, 10, 31)}, "expires_on: 2026-10-31 is not after valid_from"),
        ({"expires_on": date(2026, 11, 1)}, "expires_on: 2026-11-01 is not after valid_from"),
        ({"expires_on": date(2027, 11, 5)}, "expires_on: validity longer than 366 days"),
        (
            {"valid_from": date(2026, 8, 1), "expires_on": date(2026, 10, 29)},
            "expires_on: the referral expired on 2026-10-29",
        ),
        ({"authored_on": date(2026, 11, 1)}, "authored_on: 2026-11-01 is in the future"),
        ({"authorized_visits": 0}, "authorized_visits: must be 1-100, got 0"),
        ({"authorized_visits": 101}, "authorized_visits: must be 1-100, got 101"),
        ({"status": "revoked"}, "status: 'revoked' referrals do not authorize visits"),
        ({"status": "draft"}, "status: 'draft' referrals do not authorize visits"),
        (
            {"priority": "whenever"},
            "priority: 'whenever' is not one of routine, urgent, asap, stat",
        ),
        (
            {"requester": Requester(name="")},
            "requester.name: the prescriber is required",
        ),
        (
            {"patient": ReferredPatient("Maria", "Alvarez", birth_date=date(2027, 1, 1))},
            "patient.birth_date: 2027-01-01 is in the future",
        ),
        (
            {"visits_per_period": VisitsPerPeriod(2, 1, "fortnight")},
            "visits_per_period: visits and period must be >= 1, unit one of d, wk, mo",
        ),
        (
            {"visits_per_period": VisitsPerPeriod(0, 1, "wk")},
            "visits_per_period: visits and period must be >= 1",
        ),
    ],
)
def test_check_terms_names_each_problem_precisely(changes, problem):
    problems = check_terms(make_referral(**changes), TODAY)
    assert any(p.startswith(problem) for p in problems), problems


def test_a_referral_authored_tomorrow_is_tolerated_for_time_zones():
    assert check_terms(make_referral(authored_on=date(2026, 10, 31)), TODAY) == []


def test_a_referral_is_still_valid_on_its_expiry_day():
    assert check_terms(make_referral(), date(2027, 1, 29)) == []


def test_check_terms_reports_every_problem_at_once():
    problems = check_terms(
        make_referral(status="revoked", authorized_visits=0, expires_on=date(2026, 10, 1)), TODAY
    )
    fields = list(dict.fromkeys(p.split(":")[0] for p in problems))
    assert fields == ["status", "expires_on", "authorized_visits"]


@pytest.mark.parametrize(
    "changes",
    [
        {"diagnoses": []},
        {"diagnoses": [Diagnosis("M54.5")]},
        {"authorized_visits": None},
        {"expires_on": None},
    ],
)
def test_what_the_clinic_settles_with_the_prescriber_does_not_reject(changes):
    assert check_terms(make_referral(**changes), TODAY) == []


@pytest.mark.parametrize(
    ("email", "phone", "region", "expected"),
    [
        (
            "Maria.Alvarez@Example.COM",
            "(617) 555-0134",
            "US",
            ("Maria.Alvarez@example.com", "+16175550134"),
        ),
        ("m@example.org", "+1 617 555 0134", "GB", ("m@example.org", "+16175550134")),
        (None, "020 7946 0958", "GB", (None, "+442079460958")),
        ("m@example.org", None, "US", ("m@example.org", None)),
        (None, None, "US", (None, None)),
    ],
)
def test_normalise_contact_gives_a_valid_email_and_an_e164_phone(email, phone, region, expected):
    assert normalise_contact(email, phone, region) == expected


@pytest.mark.parametrize(
    ("email", "phone", "field"),
    [
        ("maria@", None, "email"),
        ("maria.example.com", None, "email"),
        ("maria@example.com", "not a number", "phone"),
        ("maria@example.com", "555-0134", "phone"),  # too short to be a US number
        ("maria@example.com", "07700 900123", "phone"),  # not valid in the default region
    ],
)
def test_normalise_contact_names_the_field_that_is_wrong(email, phone, field):
    with pytest.raises(ContactError) as caught:
        normalise_contact(email, phone)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
