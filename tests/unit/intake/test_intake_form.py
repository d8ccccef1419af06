from __future__ import annotations

from datetime import date

import pytest
from marshmallow import ValidationError

from services.intake.api.schemas import IntakeFormSchema
from services.intake.domain.checklist_flags import CONDITIONS
from services.intake.domain.screening import screen
from services.intake.usecases.intakes import result_from, scored_baseline, screening_input
from shared.errors import Invalid

TODAY = date(2026, 11, 28)
CONSENT = {"signed_by": "M. Alvarez", "agreed": True, "email": True, "sms": False}


def load(**form):
    return IntakeFormSchema().load({"consent": CONSENT, **form})


@pytest.mark.parametrize(
    ("form", "outcome"),
    [
        ({}, "clear"),
        ({"medications": ["Eliquis 5 mg"]}, "modify"),
        (
            {
                "history": {
                    "local_findings": [{"condition": "varicose_veins", "body_area": "left calf"}]
                }
            },
            "local",
        ),
        ({"history": {"conditions": ["heart_disease"]}}, "needs_clearance"),
        ({"vitals": {"temperature_c": 38.6}}, "blocked"),
        ({"vitals": {"blood_pressure": {"systolic": 185, "diastolic": 95}}}, "blocked"),
        ({"history": {"pregnancy": {"trimester": 1}}}, "needs_clearance"),
        (
            {"history": {"events": [{"condition": "tia", "occurred_on": "2026-10-01"}]}},
            "needs_clearance",
        ),
        (
            {
                "medications": ["warfarin"],
                "history": {"surgeries": [{"performed_on": "2026-11-01", "body_area": "hip"}]},
            },
            "needs_clearance",
        ),
    ],
    ids=[
        "nothing",
        "anticoagulant",
        "varicose-veins",
        "heart-disease",
        "fever",
        "hypertension",
        "first-trimester",
        "recent-tia",
        "anticoagulant-and-recent-surgery",
    ],
)
def test_the_form_feeds_the_screening_rules(form, outcome):
    assert screen(screening_input(load(**form), TODAY)).outcome == outcome


def test_anticoagulants_with_recent_surgery_exclude_the_site_and_lighten_pressure():
    form = load(
        medications=["warfarin"],
        history={"surgeries": [{"performed_on": "2026-11-01", "body_area": "hip"}]},
    )
    result = screen(screening_input(form, TODAY))
    assert result.excluded_areas == ("hip",)
    assert "no deep tissue" in result.modifications
    assert result.requires_clearance_for == ("surgery-within-6-months",)


def test_a_stored_result_reads_back_as_the_same_result():
    import json
    from dataclasses import asdict

    result = screen(
        screening_input(load(history={"conditions": ["heart_disease", "osteoporosis"]}), TODAY)
    )
    stored = json.loads(json.dumps(asdict(result)))
    assert result_from(stored) == result


@pytest.mark.parametrize(
    "form",
    [
        {"history": {"conditions": ["fevr"]}},
        {"consent": {**CONSENT, "agreed": False}},
        {"baseline": [{"measure": "XYZ", "items": [1]}]},
        {"tenant_id": "t"},
    ],
    ids=["unknown-condition", "consent-refused", "unknown-measure", "tenant_id"],
)
def test_the_form_refuses_what_screening_or_consent_cannot_use(form):
    with pytest.raises(ValidationError):
        IntakeFormSchema().load({"consent": CONSENT, **form})


def test_conditions_are_the_flags_of_the_rules_table():
    assert {"fever", "dvt", "heart_disease", "anticoagulants", "diabetic_neuropathy"} <= set(
        CONDITIONS
    )


def test_baseline_measures_are_scored_and_a_missing_item_beyond_the_rule_is_refused():
    assert scored_baseline([{"measure": "NDI", "items": [2] * 9 + [None]}])[0]["score"] == 40.0
    with pytest.raises(Invalid) as caught:
        scored_baseline(
            [{"measure": "NPRS", "items": [3]}, {"measure": "LEFS", "items": [4] * 19 + [None]}]
        )
    assert list(caught.value.errors) == ["baseline[1].items"]
