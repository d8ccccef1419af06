"""Reading the patient's posted form into the intake form, and its errors back onto the fields."""

from __future__ import annotations

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from services.intake.domain.screening import screen
from services.intake.usecases.intakes import scored_baseline, screening_input
from services.intake.web_form.field_errors import WHOLE_FORM, field_for
from services.intake.web_form.form_check import check
from services.intake.web_form.form_input import read_form
from services.intake.web_form.questionnaires import QUESTIONNAIRES

LOW_BACK = QUESTIONNAIRES.for_diagnoses(["M54.50"])  # NPRS, ODI
NONE_FITS = QUESTIONNAIRES.for_diagnoses(["M79.7"])  # NPRS, PSFS
ODI = [2, 3, 1, 2, 2, 3, 1, 2, "", 2]


def posted(**changes) -> MultiDict:
    values = {
        "symptom_1_description": " Low back pain when sitting ",
        "symptom_1_body_area": "lower back",
        "symptom_1_severity": "6",
        "body_areas": ["Lower back", "Neck"],
        "body_areas_other": "left calf, Neck",
        "nprs_1": "6",
        **{f"odi_{n}": str(v) for n, v in enumerate(ODI, 1)},
        "conditions": ["heart_disease"],
        "medications": "Eliquis 5 mg\n\n  Ibuprofen  \n",
        "temperature_c": "37,2",
        "bp_systolic": "128",
        "bp_diastolic": "82",
        "pregnancy": "2",
        "surgery_2_date": "2026-10-01",
        "surgery_2_area": "left knee",
        "event_tia_date": "2026-09-01",
        "finding_varicose_veins_area": "left calf, right calf",
        "history_notes": "Desk job.",
        "contact_sms": "yes",
        "consent_agreed": "yes",
        "signed_by": "Maria Elena Alvarez",
    }
    values.update(changes)
    return MultiDict([(k, item) for k, v in values.items() if v is not None for item in _many(v)])


def _many(value):
    return value if isinstance(value, list) else [value]


def test_a_complete_form_reads_as_the_intake_form_the_staff_api_takes():
    reading = read_form(posted(), LOW_BACK)

    assert reading.errors == {}
    assert reading.form == {
        "symptoms": [
            {"description": "Low back pain when sitting", "body_area": "lower back", "severity": 6}
        ],
        "body_areas": ["Lower back", "Neck", "left calf"],
        "baseline": [
            {"measure": "NPRS", "items": [6.0]},
            {"measure": "ODI", "items": [2.0, 3.0, 1.0, 2.0, 2.0, 3.0, 1.0, 2.0, None, 2.0]},
        ],
        "medications": ["Eliquis 5 mg", "Ibuprofen"],
        "vitals": {"temperature_c": 37.2, "blood_pressure": {"systolic": 128, "diastolic": 82}},
        "history": {
            "conditions": ["heart_disease"],
            "pregnancy": {"trimester": 2, "high_risk": False},
            "surgeries": [{"performed_on": "2026-10-01", "body_area": "left knee"}],
            "events": [{"condition": "tia", "occurred_on": "2026-09-01"}],
            "local_findings": [
                {"condition": "varicose_veins", "body_area": "left calf"},
                {"condition": "varicose_veins", "body_area": "right calf"},
            ],
            "notes": "Desk job.",
        },
        "consent": {
            "signed_by": "Maria Elena Alvarez",
            "agreed": True,
            "email": False,
            "sms": True,
            "text_version": "v1",
        },
    }


def test_the_checked_form_scores_and_screens_as_the_use_case_will():
    loaded, errors = check(read_form(posted(), LOW_BACK), LOW_BACK)

    assert errors == {}
    assert [b["score"] for b in scored_baseline(loaded["baseline"])] == [6.0, 40.0]
    result = screen(screening_input(loaded, date(2026, 11, 28)))
    assert result.outcome == "needs_clearance"
    assert {r.rule_id for r in result.reasons} >= {
        "heart-disease",
        "stroke-or-tia-within-3-months",
        "surgery-within-6-months",
        "varicose-veins",
        "anticoagulants",
    }
    assert set(result.excluded_areas) >= {"left calf", "right calf"}


def test_an_empty_form_asks_for_the_pain_score_the_questionnaire_consent_and_signature():
    _, errors = check(read_form(MultiDict(), LOW_BACK), LOW_BACK)

    assert list(errors) == ["nprs_1", "q-odi", "consent_agreed", "signed_by"]
    assert errors["nprs_1"] == "Enter your pain right now as a whole number from 0 to 10."
    assert "at least 8 of the 10" in errors["q-odi"]
    assert errors["signed_by"] == "Type your full name to sign the form."


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"nprs_1": "12"}, "nprs_1", "your pain right now as a whole number from 0 to 10"),
        ({"nprs_1": "six"}, "nprs_1", "your pain right now as a whole number"),
        ({"odi_3": "9"}, "odi_3", "Choose one of the answers to question 3"),
        ({"symptom_1_severity": "11"}, "symptom_1_severity", "how bad symptom 1 is"),
        ({"symptom_1_description": ""}, "symptom_1_description", "Describe symptom 1"),
        ({"temperature_c": "hot"}, "temperature_c", "your temperature as a number"),
        ({"temperature_c": "nan"}, "temperature_c", "your temperature as a number"),
        ({"temperature_c": "50"}, "temperature_c", "30 to 45"),
        ({"bp_diastolic": ""}, "bp_diastolic", "bottom blood pressure number"),
        ({"surgery_2_area": ""}, "surgery_2_area", "where on the body operation 2 was"),
        ({"surgery_2_date": "yesterday"}, "surgery_2_date", "date of operation 2"),
        ({"event_tia_date": "2026-13-01"}, "event_tia_date", "date of the stroke"),
        ({"finding_open_wound_area": "x" * 61}, "finding_open_wound_area", "60 characters"),
        ({"medications": "x" * 201}, "medications", "one medicine per line"),
        ({"conditions": ["fevr"]}, "conditions", "Must be one of"),
        ({"pregnancy": "", "pregnancy_high_risk": "yes"}, "pregnancy", "months pregnant"),
        ({"consent_agreed": None}, "consent_agreed", "Tick the box"),
        ({"signed_by": "   "}, "signed_by", "full name"),
    ],
)
def test_each_mistake_is_reported_on_its_own_field_in_words_for_patients(changes, field, words):
    _, errors = check(read_form(posted(**changes), LOW_BACK), LOW_BACK)

    assert list(errors) == [field], errors
    assert words in errors[field]


def test_errors_come_in_the_order_of_the_page():
    changes = {"signed_by": "", "temperature_c": "x", "nprs_1": "", "symptom_1_severity": "99"}
    _, errors = check(read_form(posted(**changes), LOW_BACK), LOW_BACK)
    assert list(errors) == ["symptom_1_severity", "nprs_1", "temperature_c", "signed_by"]


def activities(*rows):
    values = {}
    for n, (name, rating) in enumerate(rows, 1):
        values[f"psfs_{n}_activity"], values[f"psfs_{n}"] = name, rating
    return values


def test_psfs_activities_are_rated_and_their_names_kept_in_the_notes():
    rows = activities(("Sitting at my desk", "4"), ("Carrying groceries", "5"), ("Sleeping", "6"))
    loaded, errors = check(read_form(posted(**rows), NONE_FITS), NONE_FITS)

    assert errors == {}
    assert loaded["baseline"][1] == {"measure": "PSFS", "items": [4.0, 5.0, 6.0]}
    assert loaded["history"]["notes"].endswith(
        "(PSFS): 1. Sitting at my desk; 2. Carrying groceries; 3. Sleeping"
    )


@pytest.mark.parametrize(
    ("rows", "errors"),
    [
        ([("Sitting", "4"), ("Walking", "5")], {"q-psfs": "at least 3 activities"}),
        ([("Sitting", "4"), ("Walking", ""), ("Lifting", "3")], {"psfs_2": "activity 2"}),
        ([("Sitting", "4"), ("", "5"), ("Lifting", "3")], {"psfs_2_activity": "Name activity 2"}),
        ([("Sitting", "4"), ("Walking", "11"), ("Lifting", "3")], {"psfs_2": "from 0 to 10"}),
    ],
    ids=["too-few", "unrated", "unnamed", "out-of-range"],
)
def test_psfs_rows_need_a_name_and_a_rating_and_three_of_them(rows, errors):
    _, found = check(read_form(posted(**activities(*rows)), NONE_FITS), NONE_FITS)

    assert list(found) == list(errors)
    for field, words in errors.items():
        assert words in found[field]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("consent.signed_by", "signed_by"),
        ("history.surgeries[0].body_area", "surgery_2_area"),
        ("history.surgeries[0]", "surgery_2_date"),
        ("history.conditions[0]", "conditions"),
        ("history.local_findings[1].body_area", "finding_varicose_veins_area"),
        ("body_areas[2]", "body_areas_other"),
        ("body_areas[0]", "body_areas"),
        ("baseline[1].items", "q-odi"),
        ("baseline[0].items", "nprs_1"),
        ("medications[1]", "medications"),
        ("somewhere.else", WHOLE_FORM),
    ],
)
def test_a_schema_path_goes_to_the_field_it_was_read_from(path, field):
    reading = read_form(posted(), LOW_BACK)
    assert field_for(path, reading.origins) == field
