import copy
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.planning.domain import condition_tables
from services.planning.domain.condition_tables import (
    DEFAULT_TABLES,
    ConditionTables,
    group_for,
    matched_groups,
)
from services.planning.domain.drafting import PlanBlocked, PlanDraft, PlanHeld, draft_plan
from services.planning.domain.intake_summary import IntakeSummary, InvalidIntake, with_clearances
from shared.clinical.outcome_measures import MEASURES, improvement_target
from tests.support.planning_data import set_path

TODAY = date(2025, 3, 3)
TABLE_FILE = Path(condition_tables.__file__).with_name("condition_groups.json")


def event_data(**changes: Any) -> dict[str, Any]:
    """Intake-completed event data; ``changes`` keys are dotted paths ("referral.expires_on")."""
    data: dict[str, Any] = {
        "intake_id": "intake-1",
        "referral_id": "referral-1",
        "patient_id": "patient-1",
        "location_id": "location-1",
        "tenant_id": "tenant-1",
        "screening": {"outcome": "clear", "reasons": [], "excluded_areas": [], "modifications": []},
        "baseline": [{"measure": "NPRS", "score": 7.0}, {"measure": "ODI", "score": 40.0}],
        "referral": {
            "authorized_visits": 12,
            "valid_from": "2025-03-01",
            "expires_on": "2025-06-30",
            "diagnoses": [{"code": "M54.50", "display": "Low back pain, unspecified"}],
            "body_sites": ["lower back"],
        },
        "body_areas": ["lower back", "left calf"],
        "completed_at": "2025-03-02T15:30:00+00:00",
    }
    return set_path(data, changes)


def intake(**changes: Any) -> IntakeSummary:
    return IntakeSummary.from_event_data(event_data(**changes))


def drafted(**changes: Any) -> PlanDraft:
    plan = draft_plan(intake(**changes), TODAY)
    assert isinstance(plan, PlanDraft)
    return plan


def reason(rule_id: str, tier: str) -> dict[str, str]:
    return {"rule_id": rule_id, "tier": tier, "label": rule_id.title(), "detail": ""}


# --- reading the event ---------------------------------------------------------------------


def test_an_intake_summary_reads_every_field_of_the_event_data():
    summary = intake(**{"screening.reasons": [reason("anticoagulants", "modify")]})

    assert summary.intake_id == "intake-1" and summary.tenant_id == "tenant-1"
    assert summary.screening.reasons[0].rule_id == "anticoagulants"
    assert summary.referral.expires_on == date(2025, 6, 30)
    assert summary.referral.diagnoses[0].code == "M54.50"
    assert [(b.measure, b.score) for b in summary.baseline] == [("NPRS", 7.0), ("ODI", 40.0)]
    assert summary.completed_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"screening.outcome": "maybe"}, "unknown screening outcome"),
        ({"referral.expires_on": "30/06/2025"}, "referral.expires_on"),
        ({"referral.authorized_visits": "many"}, "referral.authorized_visits"),
        ({"baseline": [{"measure": "VAS", "score": 3}]}, "unknown outcome measures"),
        ({"baseline": [{"measure": "NPRS", "score": 11}]}, "outside"),
        ({"baseline": [{"score": 3}]}, "baseline"),
        ({"referral.valid_from": "2025-07-01"}, "before valid_from"),
        ({"screening.reasons": [{"tier": "absolute"}]}, "screening.reasons"),
        ({"referral.diagnoses": [{"display": "Back pain"}]}, "referral.diagnoses"),
        ({"referral.authorized_visits": 2.5}, "referral.authorized_visits"),
        ({"referral.authorized_visits": -1}, "referral.authorized_visits"),
        ({"patient_id": ""}, "patient_id"),
        ({"tenant_id": None}, "tenant_id"),
        ({"baseline": [{"measure": "NPRS", "score": 7}] * 2}, "more than once"),
        ({"completed_at": "yesterday"}, "completed_at"),
    ],
)
def test_malformed_event_data_is_refused_with_a_message_naming_the_problem(changes, message):
    with pytest.raises(InvalidIntake, match=message):
        intake(**changes)


def test_event_data_missing_a_required_field_names_the_field():
    data = event_data()
    del data["referral"]["expires_on"]

    with pytest.raises(InvalidIntake, match="missing 'referral.expires_on'"):
        IntakeSummary.from_event_data(data)


# --- the condition-group table -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("M54.50", "low_back_pain"),
        ("M54.59", "low_back_pain"),
        ("m5450", "low_back_pain"),
        ("M54.2", "cervicalgia"),
        ("S13.4XXA", "cervicalgia"),
        ("M79.10", "myalgia"),
        ("M79.18", "myalgia"),
        ("M62.830", "muscle_spasm"),
        ("M62.838", "muscle_spasm"),
        ("M79.7", "fibromyalgia"),
        ("G44.209", "tension_type_headache"),
        ("G44.221", "tension_type_headache"),
    ],
)
def test_a_diagnosis_code_finds_its_condition_group_by_icd10_prefix(code, group):
    assert group_for(code).code == group


@pytest.mark.parametrize("code", ["M54.6", "R51.9", "M79.2", "G44.1", ""])
def test_a_code_outside_every_prefix_has_no_group(code):
    assert group_for(code) is None


def test_a_referral_without_a_known_diagnosis_gets_the_default_group():
    assert drafted(**{"referral.diagnoses": [{"code": "R52"}]}).condition_group == "general"


def test_the_longest_matching_prefix_wins():
    raw = json.loads(TABLE_FILE.read_text())
    broad = {**raw["groups"][0], "code": "all_m54", "icd10_prefixes": ["M54"]}
    tables = ConditionTables.from_dict({**raw, "groups": [broad, *raw["groups"]]})

    assert group_for("M54.50", tables).code == "low_back_pain"
    assert group_for("M54.6", tables).code == "all_m54"


def test_the_first_known_diagnosis_sets_the_numbers_and_every_group_adds_techniques():
    diagnoses = [{"code": "R52"}, {"code": "M79.7"}, {"code": "M54.50"}]
    summary = intake(**{"referral.diagnoses": diagnoses})
    plan = draft_plan(summary, TODAY)

    groups = matched_groups(summary.referral.diagnoses)
    assert [g.code for g in groups] == ["fibromyalgia", "low_back_pain"]
    assert plan.condition_group == "fibromyalgia"
    assert plan.frequency_per_week == 1
    codes = [t.code for t in plan.techniques]
    assert codes[:3] == ["swedish", "myofascial_release", "lymphatic_drainage"]
    assert "deep_tissue" in codes


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"gentle_fallback": "deep_tissue"}, "high-pressure"),
        ({"gentle_fallback": "reiki"}, "unknown techniques"),
        ({"groups": [{"code": "x"}]}, "malformed"),
    ],
)
def test_a_condition_table_with_mistakes_is_refused(change, message):
    raw = json.loads(TABLE_FILE.read_text())

    with pytest.raises(ValueError, match=message):
        ConditionTables.from_dict({**raw, **change})


def test_a_group_with_impossible_numbers_is_refused():
    raw = json.loads(TABLE_FILE.read_text())
    raw["groups"][0]["frequency_per_week"] = 8

    with pytest.raises(ValueError, match="frequency_per_week"):
        ConditionTables.from_dict(raw)


def test_a_clinic_can_draft_with_its_own_table():
    raw = json.loads(TABLE_FILE.read_text())
    raw["groups"][0].update(session_minutes=90, typical_sessions=4)
    plan = draft_plan(intake(), TODAY, ConditionTables.from_dict(raw))

    assert (plan.session_minutes, plan.planned_sessions) == (90, 4)


# --- screening decides whether there is a plan ---------------------------------------------


def test_a_blocked_screening_gives_no_plan_and_keeps_the_reasons():
    plan = draft_plan(
        intake(
            **{"screening.outcome": "blocked", "screening.reasons": [reason("dvt", "absolute")]}
        ),
        TODAY,
    )

    assert isinstance(plan, PlanBlocked)
    assert [r.rule_id for r in plan.reasons] == ["dvt"]
    assert plan.status == "cannot_plan"


def test_a_screening_needing_clearance_holds_the_plan_awaiting_the_clearance_rules():
    reasons = [reason("pregnancy_first_trimester", "clearance"), reason("open_wound", "local")]
    plan = draft_plan(
        intake(**{"screening.outcome": "needs_clearance", "screening.reasons": reasons}), TODAY
    )

    assert isinstance(plan, PlanHeld)
    assert plan.awaiting == ("pregnancy_first_trimester",)
    assert len(plan.reasons) == 2 and plan.status == "held"


def test_a_held_intake_is_drafted_once_a_physician_clears_every_hold():
    reasons = [reason("heart_disease", "clearance"), reason("recent_stroke", "clearance")]
    held = intake(**{"screening.outcome": "needs_clearance", "screening.reasons": reasons})

    partly = with_clearances(held, ["heart_disease"])
    fully = with_clearances(partly, ["recent_stroke"])

    assert draft_plan(partly, TODAY).awaiting == ("recent_stroke",)
    assert isinstance(draft_plan(fully, TODAY), PlanDraft)


def test_clearing_holds_keeps_the_modifications_screening_asked_for():
    held = intake(
        **{
            "screening.outcome": "needs_clearance",
            "screening.reasons": [reason("heart_disease", "clearance")],
            "screening.modifications": ["reduced pressure"],
        }
    )

    plan = draft_plan(with_clearances(held, ["heart_disease"]), TODAY)

    assert plan.precautions == ("reduced pressure",)


@pytest.mark.parametrize(
    ("changes", "rule_id"),
    [
        ({"referral.expires_on": "2025-03-02"}, "referral_expired"),
        ({"referral.authorized_visits": 0}, "no_authorized_visits"),
    ],
)
def test_an_unusable_referral_gives_no_plan(changes, rule_id):
    plan = draft_plan(intake(**changes), TODAY)

    assert isinstance(plan, PlanBlocked)
    assert [r.rule_id for r in plan.reasons] == [rule_id]
    assert plan.reasons[0].tier == "referral"


def test_a_referral_expiring_today_can_still_be_planned_for_one_session():
    plan = drafted(**{"referral.expires_on": TODAY.isoformat()})

    assert plan.planned_sessions == 1
    assert plan.start_on == plan.end_on == TODAY


# --- techniques under screening ------------------------------------------------------------


def test_a_clear_screening_gets_the_groups_techniques_and_numbers():
    plan = drafted()

    assert [t.code for t in plan.techniques] == [
        "deep_tissue",
        "myofascial_release",
        "trigger_point",
        "stretching",
    ]
    assert all(t.notes == () for t in plan.techniques)
    assert (plan.session_minutes, plan.frequency_per_week) == (60, 2)
    assert plan.precautions == () and plan.excluded_areas == ()


def test_a_modify_screening_drops_high_pressure_techniques_and_notes_the_modifications():
    plan = drafted(
        **{"screening.outcome": "modify", "screening.modifications": ["reduced pressure"]}
    )

    assert [t.code for t in plan.techniques] == ["myofascial_release", "stretching"]
    assert all("reduced pressure" in t.notes for t in plan.techniques)
    assert plan.precautions == ("reduced pressure",)


def test_a_modify_screening_without_notes_gets_the_tables_default_precautions():
    plan = drafted(**{"screening.outcome": "modify"})

    assert plan.precautions == DEFAULT_TABLES.default_modifications
    assert not any(DEFAULT_TABLES.techniques[t.code].high_pressure for t in plan.techniques)


def test_when_every_technique_is_high_pressure_the_gentle_fallback_is_planned():
    raw = json.loads(TABLE_FILE.read_text())
    raw["groups"][0]["techniques"] = ["deep_tissue", "trigger_point"]
    tables = ConditionTables.from_dict(raw)

    plan = draft_plan(intake(**{"screening.outcome": "modify"}), TODAY, tables)

    assert [t.code for t in plan.techniques] == ["swedish"]


def test_a_local_screening_lists_the_excluded_areas_and_every_technique_avoids_them():
    plan = drafted(**{"screening.outcome": "local", "screening.excluded_areas": ["Left calf"]})

    assert plan.excluded_areas == ("Left calf",)
    assert all("avoid Left calf" in t.notes for t in plan.techniques)
    assert plan.treatment_areas == ("lower back",)
    assert "deep_tissue" in [t.code for t in plan.techniques]


def test_without_intake_body_areas_the_referrals_body_sites_are_treated():
    assert drafted(body_areas=[]).treatment_areas == ("lower back",)


# --- sessions, dates and goals -------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorized", "valid_from", "expires_on", "sessions", "start_on", "end_on"),
    [
        (12, "2025-03-01", "2025-06-30", 8, "2025-03-03", "2025-03-28"),  # group's typical
        (3, "2025-03-01", "2025-06-30", 3, "2025-03-03", "2025-03-10"),  # authorization
        (12, "2025-03-01", "2025-03-09", 2, "2025-03-03", "2025-03-07"),  # fits before expiry
        (12, "2025-03-01", "2025-03-16", 4, "2025-03-03", "2025-03-14"),  # 13 * 2 // 7 + 1
        (12, "2025-03-10", "2025-06-30", 8, "2025-03-10", "2025-04-04"),  # starts when valid
    ],
)
def test_planned_sessions_are_the_fewest_of_typical_authorized_and_fitting_before_expiry(
    authorized, valid_from, expires_on, sessions, start_on, end_on
):
    plan = drafted(
        **{
            "referral.authorized_visits": authorized,
            "referral.valid_from": valid_from,
            "referral.expires_on": expires_on,
        }
    )

    assert plan.planned_sessions == sessions
    assert plan.start_on == date.fromisoformat(start_on)
    assert plan.end_on == date.fromisoformat(end_on)


@pytest.mark.parametrize(
    ("measure", "baseline", "target"),
    [("NPRS", 7.0, 5.0), ("ODI", 40.0, 30.0), ("PSFS", 3.0, 5.0), ("LEFS", 40.0, 49.0)],
)
def test_each_baseline_measure_gets_a_goal_of_at_least_the_mcid(measure, baseline, target):
    plan = drafted(baseline=[{"measure": measure, "score": baseline}])

    (goal,) = plan.goals
    assert (goal.measure, goal.baseline, goal.target) == (measure, baseline, target)
    assert goal.better == MEASURES[measure].better
    assert goal.due_on == plan.end_on


def test_the_plan_carries_the_referrals_diagnoses():
    assert [d.code for d in drafted().diagnoses] == ["M54.50"]


def test_drafting_does_not_change_the_intake():
    summary = intake()
    before = copy.deepcopy(summary)

    draft_plan(summary, TODAY)

    assert summary == before


@given(
    authorized=st.integers(min_value=0, max_value=40),
    valid_offset=st.integers(min_value=-60, max_value=60),
    span=st.integers(min_value=0, max_value=365),
    code=st.sampled_from(["M54.50", "M54.2", "M79.1", "M62.838", "M79.7", "G44.209", "R52"]),
    nprs=st.integers(min_value=0, max_value=10),
)
def test_a_drafted_plan_never_exceeds_authorized_visits_nor_ends_after_expiry(
    authorized, valid_offset, span, code, nprs
):
    valid_from = TODAY + timedelta(days=valid_offset)
    expires_on = valid_from + timedelta(days=span)
    summary = intake(
        **{
            "referral.authorized_visits": authorized,
            "referral.valid_from": valid_from.isoformat(),
            "referral.expires_on": expires_on.isoformat(),
            "referral.diagnoses": [{"code": code}],
            "baseline": [{"measure": "NPRS", "score": nprs}],
        }
    )

    plan = draft_plan(summary, TODAY)

    if authorized < 1 or expires_on < TODAY:
        assert isinstance(plan, PlanBlocked)
        return
    assert 1 <= plan.planned_sessions <= authorized
    assert max(TODAY, valid_from) == plan.start_on <= plan.end_on <= expires_on
    assert all(goal.due_on <= expires_on for goal in plan.goals)
    assert plan.goals[0].target == improvement_target("NPRS", nprs) <= nprs
