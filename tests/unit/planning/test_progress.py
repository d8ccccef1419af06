from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.planning.domain.progress import (
    Measurement,
    PlanProgress,
    ReassessmentPolicy,
    measure_progress,
    newly_improved,
    plan_progress,
    reassessment_due,
)
from shared.clinical.outcome_measures import MEASURES

DAY_1 = datetime(2025, 3, 3, 10, tzinfo=UTC)


def measured(measure: str, score: float, days_later: int = 7) -> Measurement:
    return Measurement(measure, score, DAY_1 + timedelta(days=days_later))


@pytest.mark.parametrize(
    ("measure", "baseline", "latest", "improved"),
    [
        ("NPRS", 7, 4, True),  # 3 points >= 2
        ("NPRS", 7, 5, True),  # exactly the MCID
        ("NPRS", 7, 6, False),  # 1 point, 14 %
        ("NPRS", 7, 8, False),  # worse
        ("NPRS", 3, 2, True),  # 1 point, but 33 % >= the 30 % relative MCID
        ("ODI", 40, 30, True),  # 10 points
        ("ODI", 40, 32, False),  # 8 points, 20 %
        ("ODI", 20, 14, True),  # 6 points but 30 %
        ("NDI", 50, 35, True),  # 15 percentage points = 7.5 of 50
        ("PSFS", 3, 5, True),  # higher is better
        ("PSFS", 5, 3, False),
        ("PSFS", 3, 4, False),
        ("LEFS", 40, 49, True),
        ("LEFS", 40, 48, False),
        ("QuickDASH", 50, 36, True),
    ],
)
def test_clinical_improvement_follows_the_mcid_in_the_measures_direction(
    measure, baseline, latest, improved
):
    progress = measure_progress(measure, baseline, measured(measure, latest), None)

    assert progress.clinically_improved is improved


@pytest.mark.parametrize(
    ("measure", "baseline", "latest", "change", "percent"),
    [
        ("NPRS", 7, 4, 3.0, 42.9),
        ("NPRS", 7, 8, -1.0, -14.3),
        ("ODI", 40, 30, 10.0, 25.0),
        ("PSFS", 4, 6, 2.0, 50.0),
        ("PSFS", 4, 3, -1.0, -25.0),
        ("NPRS", 0, 0, 0.0, None),
    ],
)
def test_change_and_percent_change_are_positive_when_the_patient_improves(
    measure, baseline, latest, change, percent
):
    progress = measure_progress(measure, baseline, measured(measure, latest), None)

    assert (progress.change, progress.percent_change) == (change, percent)


@pytest.mark.parametrize(
    ("measure", "latest", "target", "met"),
    [
        ("NPRS", 5, 5, True),
        ("NPRS", 4, 5, True),
        ("NPRS", 6, 5, False),
        ("ODI", 30, 30, True),
        ("PSFS", 6, 6, True),
        ("PSFS", 7, 6, True),
        ("PSFS", 5, 6, False),
    ],
)
def test_a_goal_is_met_when_the_latest_score_reaches_the_target(measure, latest, target, met):
    baseline = {"NPRS": 7, "ODI": 40, "PSFS": 4}[measure]

    progress = measure_progress(measure, baseline, measured(measure, latest), target)

    assert progress.goal_met is met


def test_a_measure_without_a_goal_is_never_met():
    assert measure_progress("NPRS", 7, measured("NPRS", 0), None).goal_met is False


def test_the_latest_measurement_counts_whatever_order_they_arrive_in():
    measurements = [measured("NPRS", 3, 14), measured("NPRS", 6, 7), measured("NPRS", 5, 21)]

    (nprs,) = plan_progress({"NPRS": 7}, measurements).measures

    assert (nprs.latest, nprs.latest_at) == (5, DAY_1 + timedelta(days=21))


def test_without_measurements_the_baseline_carries_forward():
    (nprs,) = plan_progress({"NPRS": 7}, []).measures

    assert (nprs.latest, nprs.change, nprs.latest_at) == (7, 0.0, None)
    assert nprs.clinically_improved is False


def test_measurements_of_a_measure_without_a_baseline_are_left_out():
    progress = plan_progress({"NPRS": 7}, [measured("LEFS", 60)])

    assert [m.measure for m in progress.measures] == ["NPRS"]


def test_the_plan_summary_lists_improved_measures_and_goals_met():
    progress = plan_progress(
        {"NPRS": 7, "ODI": 40, "PSFS": 3},
        [measured("NPRS", 4), measured("ODI", 35), measured("PSFS", 5)],
        targets={"NPRS": 5, "ODI": 30, "PSFS": 5},
    )

    assert progress.improved_measures == ("NPRS", "PSFS")
    assert progress.goals_met == ("NPRS", "PSFS")
    assert progress.all_goals_met is False


@pytest.mark.parametrize(
    ("targets", "all_met"),
    [({"NPRS": 5}, True), ({"NPRS": 5, "ODI": 30}, False), ({}, False)],
)
def test_all_goals_are_met_only_when_there_are_goals_and_each_is_met(targets, all_met):
    progress = plan_progress(
        {"NPRS": 7, "ODI": 40}, [measured("NPRS", 4), measured("ODI", 35)], targets
    )

    assert progress.all_goals_met is all_met


def test_newly_improved_names_only_measures_that_just_reached_the_mcid():
    before = plan_progress({"NPRS": 7, "ODI": 40}, [measured("NPRS", 4, 7)])
    after = plan_progress({"NPRS": 7, "ODI": 40}, [measured("NPRS", 4, 7), measured("ODI", 28)])

    assert newly_improved(before, after) == ("ODI",)
    assert newly_improved(after, after) == ()
    assert newly_improved(PlanProgress(()), before) == ("NPRS",)


@pytest.mark.parametrize(
    ("sessions", "days", "due"),
    [
        (0, 0, False),
        (5, 29, False),
        (6, 0, True),
        (0, 30, True),
        (9, 45, True),
    ],
)
def test_reassessment_is_due_after_six_sessions_or_thirty_days_by_default(sessions, days, due):
    last = date(2025, 3, 3)

    assert reassessment_due(sessions, last, last + timedelta(days=days)) is due


def test_the_reassessment_interval_is_configurable():
    policy = ReassessmentPolicy(every_sessions=4, every_days=14)
    last = date(2025, 3, 3)

    assert reassessment_due(4, last, last, policy) is True
    assert reassessment_due(3, last, last + timedelta(days=13), policy) is False
    assert reassessment_due(0, last, last + timedelta(days=14), policy) is True


@given(
    measure=st.sampled_from(sorted(MEASURES)),
    baseline_share=st.floats(min_value=0, max_value=1),
    latest_share=st.floats(min_value=0, max_value=1),
)
def test_an_improvement_is_never_reported_as_a_worsening(measure, baseline_share, latest_share):
    spec = MEASURES[measure]
    scale = spec.score_max - spec.score_min
    baseline = round(spec.score_min + baseline_share * scale, 1)
    latest = round(spec.score_min + latest_share * scale, 1)

    progress = measure_progress(measure, baseline, measured(measure, latest), None)

    went_better = latest < baseline if spec.better == "lower" else latest > baseline
    assert (progress.change > 0) == went_better
    assert not progress.clinically_improved or went_better
