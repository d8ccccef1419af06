from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.intake.domain.screening import (
    DEFAULT_RULES,
    OUTCOME_SEVERITY,
    ClearanceError,
    Event,
    LocalFinding,
    Pregnancy,
    RulesError,
    ScreeningInput,
    Surgery,
    apply_clearance,
    load_rules,
    parse_rules,
    screen,
)

TODAY = date(2026, 11, 1)


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def assessment(**fields) -> ScreeningInput:
    return ScreeningInput(as_of=TODAY, **fields)


def rule_ids(result) -> list[str]:
    return [reason.rule_id for reason in result.reasons]


def test_an_assessment_with_nothing_reported_is_clear():
    result = screen(assessment())
    assert (result.outcome, result.reasons, result.excluded_areas) == ("clear", (), ())


@pytest.mark.parametrize(
    ("fields", "outcome", "rules"),
    [
        # absolute -> blocked
        ({"conditions": {"fever"}}, "blocked", ["fever"]),
        ({"temperature_c": 38.5}, "blocked", ["fever"]),
        ({"temperature_c": 38.0}, "clear", []),
        ({"conditions": {"acute_infection"}}, "blocked", ["acute-infection"]),
        ({"conditions": {"DVT"}}, "blocked", ["dvt-or-pulmonary-embolism"]),
        ({"conditions": {"pulmonary_embolism"}}, "blocked", ["dvt-or-pulmonary-embolism"]),
        ({"blood_pressure": (180, 90)}, "blocked", ["severe-hypertension"]),
        ({"blood_pressure": (150, 110)}, "blocked", ["severe-hypertension"]),
        ({"blood_pressure": (179, 109)}, "clear", []),
        ({"conditions": {"pre_eclampsia"}}, "blocked", ["pre-eclampsia"]),
        # clearance -> needs_clearance
        ({"conditions": {"cancer_under_treatment"}}, "needs_clearance", ["cancer-under-treatment"]),
        ({"conditions": {"heart_disease"}}, "needs_clearance", ["heart-disease"]),
        (
            {"pregnancy": Pregnancy(trimester=1)},
            "needs_clearance",
            ["pregnancy-first-trimester-or-high-risk"],
        ),
        (
            {"pregnancy": Pregnancy(trimester=3, high_risk=True)},
            "needs_clearance",
            ["pregnancy-first-trimester-or-high-risk"],
        ),
        ({"pregnancy": Pregnancy(trimester=2)}, "clear", []),
        (
            {"events": [Event("stroke", days_ago(60))]},
            "needs_clearance",
            ["stroke-or-tia-within-3-months"],
        ),
        ({"events": [Event("tia", days_ago(120))]}, "clear", []),
        (
            {"surgeries": [Surgery(days_ago(100), "right shoulder")]},
            "needs_clearance",
            ["surgery-within-6-months"],
        ),
        ({"surgeries": [Surgery(days_ago(200), "right shoulder")]}, "clear", []),
        ({"surgeries": [Surgery(TODAY + timedelta(days=10), "right shoulder")]}, "clear", []),
        # local
        ({"local_findings": [LocalFinding("open_wound", "left shin")]}, "local", ["open-wound"]),
        ({"local_findings": [LocalFinding("skin_infection", "neck")]}, "local", ["skin-infection"]),
        (
            {"local_findings": [LocalFinding("varicose_veins", "left calf")]},
            "local",
            ["varicose-veins"],
        ),
        (
            {"local_findings": [LocalFinding("recent_fracture", "wrist")]},
            "local",
            ["recent-fracture"],
        ),
        (
            {"local_findings": [LocalFinding("radiation_site", "chest")]},
            "local",
            ["tumour-or-radiation-site"],
        ),
        # modify
        ({"medications": ["Warfarin 5 mg daily"]}, "modify", ["anticoagulants"]),
        ({"medications": ["ELIQUIS 5mg BID"]}, "modify", ["anticoagulants"]),
        ({"medications": ["enoxaparin 40 mg"]}, "modify", ["anticoagulants"]),
        ({"medications": ["clopidogrel"]}, "modify", ["anticoagulants"]),
        ({"conditions": {"anticoagulants"}}, "modify", ["anticoagulants"]),
        ({"conditions": {"bleeding_disorder"}}, "modify", ["bleeding-disorder"]),
        ({"conditions": {"osteoporosis"}}, "modify", ["fragile-bone"]),
        ({"medications": ["alendronate 70 mg weekly"]}, "modify", ["fragile-bone"]),
        ({"medications": ["prednisone 10 mg"]}, "modify", ["long-term-corticosteroids"]),
        ({"medications": ["cyclobenzaprine"]}, "modify", ["analgesics-or-muscle-relaxants"]),
        ({"medications": ["tramadol 50mg prn"]}, "modify", ["analgesics-or-muscle-relaxants"]),
        ({"conditions": {"diabetic_neuropathy"}}, "modify", ["diabetic-neuropathy"]),
        ({"medications": ["vitamin D", "metformin"]}, "clear", []),
    ],
)
def test_each_rule_gives_its_tier_outcome(fields, outcome, rules):
    result = screen(assessment(**fields))
    assert result.outcome == outcome
    assert rule_ids(result) == rules


def test_a_surgery_within_six_weeks_excludes_its_area_and_needs_clearance():
    result = screen(assessment(surgeries=[Surgery(days_ago(20), "left knee")]))
    assert result.outcome == "needs_clearance"
    assert set(rule_ids(result)) == {"surgery-within-6-months", "recent-surgery-site"}
    assert result.excluded_areas == ("left knee",)
    assert result.requires_clearance_for == ("surgery-within-6-months",)


def test_anticoagulants_with_recent_surgery_need_clearance_then_treat_locally_with_light_pressure():
    result = screen(
        assessment(medications=["apixaban 5 mg"], surgeries=[Surgery(days_ago(21), "left knee")])
    )
    assert result.outcome == "needs_clearance"
    assert result.excluded_areas == ("left knee",)
    assert result.modifications == ("no deep tissue", "reduced pressure")

    cleared = apply_clearance(result, ["surgery-within-6-months"])

    assert cleared.outcome == "local"
    assert cleared.requires_clearance_for == ()
    assert cleared.cleared == ("surgery-within-6-months",)
    assert cleared.excluded_areas == ("left knee",)
    assert cleared.modifications == ("no deep tissue", "reduced pressure")


def test_local_outranks_modify_and_the_result_keeps_both_lists():
    result = screen(
        assessment(
            conditions={"osteoporosis"},
            local_findings=[LocalFinding("varicose_veins", "right calf")],
        )
    )
    assert result.outcome == "local"
    assert result.excluded_areas == ("right calf",)
    assert "no joint mobilisation" in result.modifications


def test_blocked_outranks_everything_and_stays_blocked_after_clearance():
    result = screen(assessment(temperature_c=38.6, conditions={"cancer_under_treatment"}))
    assert result.outcome == "blocked"
    assert result.requires_clearance_for == ("cancer-under-treatment",)
    assert apply_clearance(result, ["cancer-under-treatment"]).outcome == "blocked"


def test_clearing_every_pending_rule_re_derives_a_clear_outcome():
    result = screen(assessment(conditions={"heart_disease"}, pregnancy=Pregnancy(trimester=1)))
    cleared = apply_clearance(result, ["heart-disease", "pregnancy-first-trimester-or-high-risk"])
    assert (cleared.outcome, cleared.reasons) == ("clear", ())


def test_clearances_accumulate_across_calls():
    result = screen(assessment(conditions={"heart_disease", "cancer_under_treatment"}))
    once = apply_clearance(result, ["heart-disease"])
    assert once.outcome == "needs_clearance"
    twice = apply_clearance(once, ["cancer-under-treatment"])
    assert (twice.outcome, twice.cleared) == ("clear", ("heart-disease", "cancer-under-treatment"))


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (["fever"], "absolute contraindications cannot be cleared: fever"),
        (["open-wound"], "rules not awaiting clearance: open-wound"),
        (["no-such-rule"], "rules not awaiting clearance: no-such-rule"),
    ],
)
def test_a_clearance_can_only_lift_pending_clearance_rules(ids, message):
    result = screen(
        assessment(
            conditions={"fever", "heart_disease"},
            local_findings=[LocalFinding("open_wound", "left shin")],
        )
    )
    with pytest.raises(ClearanceError, match=message):
        apply_clearance(result, ids)


def test_each_match_gives_its_own_reason_with_a_precise_detail():
    result = screen(
        assessment(
            local_findings=[
                LocalFinding("open_wound", "left shin"),
                LocalFinding("open_wound", "chin"),
            ]
        )
    )
    assert [r.detail for r in result.reasons] == ["open_wound at left shin", "open_wound at chin"]
    assert result.excluded_areas == ("left shin", "chin")


def test_only_local_tier_reasons_exclude_an_area():
    result = screen(assessment(surgeries=[Surgery(days_ago(90), "lower back")]))
    assert result.excluded_areas == ()
    assert result.reasons[0].body_area == "lower back"


def test_plain_tuples_work_for_surgeries_findings_and_events():
    result = screen(
        assessment(
            surgeries=[(days_ago(10), "hip")],
            local_findings=[("open_wound", "hand")],
            events=[("stroke", days_ago(5))],
        )
    )
    assert result.excluded_areas == ("hip", "hand")
    assert "stroke-or-tia-within-3-months" in result.requires_clearance_for


# --- the rules table -------------------------------------------------------------------------


def minimal_table(**rule) -> dict:
    base = {"id": "r1", "tier": "modify", "label": "A rule", "match": {"conditions": ["x"]}}
    return {"medication_classes": {"statins": ["atorvastatin"]}, "rules": [base | rule]}


def test_the_default_table_covers_all_four_tiers():
    assert {rule.tier for rule in DEFAULT_RULES.rules} == {
        "absolute",
        "clearance",
        "local",
        "modify",
    }


def test_a_clinic_table_loaded_from_a_file_drives_screening(tmp_path):
    table = minimal_table(
        id="statin-caution",
        match={"medication_classes": ["statins"]},
        modifications=["gentle pressure"],
    )
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(table), encoding="utf-8")

    result = screen(assessment(medications=["Atorvastatin 20mg"]), rules=load_rules(path))

    assert (result.outcome, result.modifications) == ("modify", ("gentle pressure",))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (minimal_table(tier="severe"), "rule 'r1': unknown tier 'severe'"),
        (minimal_table(label=""), "rule 'r1': missing label"),
        (minimal_table(match={"zodiac": ["leo"]}), "rule 'r1': unknown match criterion 'zodiac'"),
        (
            minimal_table(match={"surgery_within_days": "six weeks"}),
            "rule 'r1': match criterion 'surgery_within_days' has the wrong type",
        ),
        (
            minimal_table(match={"medication_classes": ["nsaids"]}),
            r"rule 'r1': unknown medication classes \['nsaids'\]",
        ),
        ({"rules": []}, "no rules"),
        ({"rules": ["not an object"]}, "must be an object"),
        (
            {"rules": minimal_table()["rules"] * 2},
            "rule 'r1': duplicate id",
        ),
    ],
)
def test_an_invalid_rules_table_is_refused_with_the_problem_named(table, message):
    with pytest.raises(RulesError, match=message):
        parse_rules(table)


def test_an_unreadable_rules_file_is_refused(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(RulesError, match="cannot read contraindication rules"):
        load_rules(path)
    with pytest.raises(RulesError, match="cannot read contraindication rules"):
        load_rules(tmp_path / "missing.json")


# --- properties ------------------------------------------------------------------------------

FLAGS = sorted({name for rule in DEFAULT_RULES.rules for name in rule.match.get("conditions", [])})


@given(st.sets(st.sampled_from(FLAGS)), st.sets(st.sampled_from(FLAGS)))
def test_reporting_more_conditions_never_lowers_the_outcome(some, more):
    before = screen(assessment(conditions=some)).outcome
    after = screen(assessment(conditions=some | more)).outcome
    assert OUTCOME_SEVERITY.index(after) >= OUTCOME_SEVERITY.index(before)


@given(st.sets(st.sampled_from(FLAGS), min_size=1))
def test_the_outcome_is_the_most_severe_tier_among_the_reasons(flags):
    result = screen(assessment(conditions=flags))
    tiers = {reason.tier for reason in result.reasons}
    expected = next(
        outcome
        for tier, outcome in [
            ("absolute", "blocked"),
            ("clearance", "needs_clearance"),
            ("local", "local"),
            ("modify", "modify"),
        ]
        if tier in tiers
    )
    assert result.outcome == expected
