from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.clinical.outcome_measures import (
    MEASURES,
    ScoringError,
    change,
    improvement_target,
    is_clinically_improved,
    score,
)


@pytest.mark.parametrize(
    ("code", "items", "expected"),
    [
        ("NPRS", [7], 7.0),
        ("NPRS", [0], 0.0),
        ("ODI", [2] * 10, 40.0),
        ("ODI", [5] * 10, 100.0),
        ("ODI", [1, 2, 3, 4, 5, 0, 1, 2, None, 3], 46.7),  # 21 / 45
        ("ODI", [3] * 8 + [None, None], 60.0),  # 24 / 40
        ("NDI", [2] * 10, 40.0),  # total 20 of 50 -> 40 %
        ("NDI", [1] * 9 + [None], 20.0),  # 9 / 45
        ("PSFS", [3, 4, 6], 4.3),
        ("PSFS", [10, 8, 6, 4, 2], 6.0),
        ("QuickDASH", [1] * 11, 0.0),
        ("QuickDASH", [5] * 11, 100.0),
        ("QuickDASH", [2, 3, 1, 1, 2, 3, 4, 1, 2, 2, None], 27.5),  # (21/10 - 1) * 25
        ("LEFS", [4] * 20, 80.0),
        ("LEFS", [2] * 20, 40.0),
        ("LEFS", [2.0] * 20, 40.0),
    ],
)
def test_score_follows_the_published_rule(code, items, expected):
    assert score(code, items) == expected


@pytest.mark.parametrize(
    ("code", "items", "message"),
    [
        ("QuickDASH", [1] * 9 + [None, None], "QuickDASH: more than 1 of 11 items missing"),
        ("ODI", [1] * 7 + [None] * 3, "ODI: more than 2 of 10 items missing"),
        ("NDI", [None] * 10, "NDI: more than 2 of 10 items missing"),
        ("LEFS", [2] * 19 + [None], "LEFS: more than 0 of 20 items missing"),
        ("PSFS", [5, None, 6], "PSFS: more than 0 of 3 items missing"),
        ("NPRS", [None], "NPRS: more than 0 of 1 items missing"),
        ("NPRS", [11], "NPRS: item 1 must be a whole number 0-10, got 11"),
        ("NPRS", [-1], "NPRS: item 1 must be a whole number 0-10"),
        ("NPRS", [6.5], "NPRS: item 1 must be a whole number 0-10, got 6.5"),
        ("NPRS", [True], "NPRS: item 1 must be a whole number"),
        ("NPRS", ["7"], "NPRS: item 1 must be a whole number"),
        ("NPRS", [float("nan")], "NPRS: item 1 must be a whole number"),
        ("QuickDASH", [0] + [1] * 10, "QuickDASH: item 1 must be a whole number 1-5, got 0"),
        ("ODI", [1] * 9 + [6], "ODI: item 10 must be a whole number 0-5, got 6"),
        ("NPRS", [1, 2], "NPRS: expected 1 items, got 2"),
        ("ODI", [1] * 9, "ODI: expected 10 items, got 9"),
        ("PSFS", [1, 2], "PSFS: expected 3-5 items, got 2"),
        ("PSFS", [1] * 6, "PSFS: expected 3-5 items, got 6"),
        ("VAS", [1], "unknown outcome measure 'VAS'"),
    ],
)
def test_score_rejects_items_the_rule_cannot_score_with_a_message_naming_the_problem(
    code, items, message
):
    with pytest.raises(ScoringError, match=message.replace("(", r"\(").replace(")", r"\)")):
        score(code, items)


def test_scoring_error_is_a_value_error():
    assert issubclass(ScoringError, ValueError)


def test_ndi_is_stored_as_a_percent_with_its_mcid_converted_to_that_scale():
    ndi = MEASURES["NDI"]
    assert (ndi.score_min, ndi.score_max) == (0.0, 100.0)
    assert ndi.mcid_points == 15.0  # 7.5 points of the 0-50 total
    assert ndi.loinc == "82237-9"


def test_only_nprs_odi_and_ndi_accept_a_relative_mcid_of_30_percent():
    relative = {code: m.mcid_percent for code, m in MEASURES.items() if m.mcid_percent}
    assert relative == {"NPRS": 0.30, "ODI": 0.30, "NDI": 0.30}


@pytest.mark.parametrize(
    ("code", "baseline", "current", "expected"),
    [
        ("NPRS", 7, 4, 3.0),
        ("NPRS", 4, 7, -3.0),
        ("ODI", 44.4, 30.2, 14.2),
        ("PSFS", 3.3, 6.0, 2.7),
        ("LEFS", 50, 41, -9.0),
    ],
)
def test_change_is_positive_when_the_patient_improves(code, baseline, current, expected):
    assert change(code, baseline, current) == expected


@pytest.mark.parametrize(
    ("code", "baseline", "current", "improved"),
    [
        ("NPRS", 6, 4, True),  # 2 points
        ("NPRS", 6, 5, False),  # 1 point, 17 %
        ("NPRS", 3, 2, True),  # 1 point but 33 %
        ("NPRS", 10, 7, True),  # 3 points, exactly 30 %
        ("NPRS", 0, 0, False),  # baseline 0: no relative rule
        ("NPRS", 4, 6, False),  # worse
        ("ODI", 40, 31, False),  # 9 points, 22.5 %
        ("ODI", 40, 30, True),  # 10 points
        ("ODI", 20, 14, True),  # 6 points, 30 %
        ("ODI", 46.7, 32.7, True),
        ("NDI", 60, 46, False),  # 14 percentage points, 23 %
        ("NDI", 60, 45, True),  # 15 percentage points = 7.5 of the 0-50 total
        ("NDI", 30, 21, True),  # 30 %
        ("PSFS", 3.0, 5.0, True),
        ("PSFS", 3.0, 4.9, False),
        ("PSFS", 5.0, 3.0, False),  # worse: higher is better
        ("QuickDASH", 50, 36, True),
        ("QuickDASH", 50, 37, False),  # 26 % does not count: no relative rule
        ("LEFS", 40, 49, True),
        ("LEFS", 40, 48, False),
        ("LEFS", 49, 40, False),
    ],
)
def test_clinical_improvement_needs_the_mcid_in_the_improving_direction(
    code, baseline, current, improved
):
    assert is_clinically_improved(code, baseline, current) is improved


@pytest.mark.parametrize(
    ("code", "baseline", "target"),
    [
        ("NPRS", 7, 5.0),
        ("NPRS", 1, 0.0),  # clamped to the scale
        ("ODI", 46.7, 36.7),
        ("NDI", 50, 35.0),
        ("PSFS", 3.3, 5.3),
        ("PSFS", 9.5, 10.0),  # clamped
        ("QuickDASH", 40.9, 26.9),
        ("LEFS", 40, 49.0),
        ("LEFS", 75, 80.0),  # clamped
    ],
)
def test_improvement_target_is_the_mcid_away_from_baseline_within_the_scale(code, baseline, target):
    assert improvement_target(code, baseline) == target


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: change("NPRS", 11, 3), "NPRS: baseline score 11 outside 0-10"),
        (lambda: change("LEFS", 40, 81), "LEFS: current score 81 outside 0-80"),
        (lambda: is_clinically_improved("ODI", -1, 0), "ODI: baseline score -1 outside 0-100"),
        (lambda: improvement_target("PSFS", 12), "PSFS: baseline score 12 outside 0-10"),
        (lambda: improvement_target("XYZ", 1), "unknown outcome measure 'XYZ'"),
    ],
)
def test_scores_outside_the_scale_are_refused(call, message):
    with pytest.raises(ScoringError, match=message):
        call()


@st.composite
def answered_questionnaire(draw):
    """A measure code and items it can score: in range, at most max_missing left blank."""
    spec = draw(st.sampled_from(list(MEASURES.values())))
    count = draw(st.integers(*spec.item_count))
    items = draw(st.lists(st.integers(*spec.item_range), min_size=count, max_size=count))
    blanks = draw(st.sets(st.integers(0, count - 1), max_size=spec.max_missing))
    return spec.code, [None if i in blanks else v for i, v in enumerate(items)]


@given(answered_questionnaire())
def test_a_scorable_questionnaire_always_scores_within_the_scale(questionnaire):
    code, items = questionnaire
    spec = MEASURES[code]
    assert spec.score_min <= score(code, items) <= spec.score_max


@st.composite
def measure_and_score(draw):
    spec = draw(st.sampled_from(list(MEASURES.values())))
    value = draw(st.integers(int(spec.score_min * 10), int(spec.score_max * 10)))
    return spec.code, value / 10


@given(measure_and_score())
def test_improvement_target_reaches_the_mcid_unless_the_scale_ends_first(measure):
    code, baseline = measure
    spec = MEASURES[code]
    target = improvement_target(code, baseline)
    assert spec.score_min <= target <= spec.score_max
    if target not in (spec.score_min, spec.score_max):
        assert change(code, baseline, target) == spec.mcid_points
        assert is_clinically_improved(code, baseline, target)


@given(measure_and_score(), st.integers(0, 1000))
def test_change_is_antisymmetric(measure, other):
    code, baseline = measure
    spec = MEASURES[code]
    current = spec.score_min + (other / 1000) * (spec.score_max - spec.score_min)
    current = round(current, 1)
    assert change(code, baseline, current) == -change(code, current, baseline)
