import pytest

from services.planning.domain.session_record import (
    SessionRecordError,
    record_problems,
    scored_measurements,
)

CAUTIOUS = {"precautions": ["no deep tissue"], "excluded_areas": ["Left calf"]}


def test_a_measurement_is_a_score_or_the_items_scored_by_the_published_rule():
    scored = scored_measurements(
        [{"measure": "NPRS", "score": 4}, {"measure": "NDI", "items": [1] * 10}]
    )
    assert scored == [
        {"measure": "NPRS", "score": 4.0, "items": None},
        {"measure": "NDI", "score": 20.0, "items": [1] * 10},
    ]


@pytest.mark.parametrize(
    ("measurements", "message"),
    [
        ([{"measure": "NPRS", "score": 4, "items": [4]}], "either a score or the items"),
        ([{"measure": "NPRS"}], "either a score or the items"),
        ([{"measure": "NPRS", "score": 11}], "outside 0-10"),
        ([{"measure": "LEFS", "items": [1] * 19}], "expected 20 items"),
        ([{"measure": "NPRS", "score": 4}, {"measure": "NPRS", "score": 5}], "more than once"),
        ([{"measure": "VAS", "score": 4}], "unknown outcome measure"),
    ],
)
def test_an_unscorable_measurement_is_refused_with_the_reason(measurements, message):
    with pytest.raises(SessionRecordError, match=message):
        scored_measurements(measurements)


@pytest.mark.parametrize(
    ("content", "techniques", "areas", "pressure", "fields"),
    [
        ({}, ["deep_tissue"], ["left calf"], "deep", []),
        (CAUTIOUS, ["myofascial_release"], ["lower back"], "moderate", []),
        (CAUTIOUS, ["deep_tissue", "swedish"], [], "light", ["techniques"]),
        (CAUTIOUS, ["swedish"], [], "firm", ["pressure"]),
        (CAUTIOUS, ["swedish"], ["left calf"], None, ["areas"]),
        ({}, ["hot_stones"], [], None, ["techniques"]),
    ],
)
def test_a_session_respects_the_plans_precautions(content, techniques, areas, pressure, fields):
    assert sorted(record_problems(content, techniques, areas, pressure)) == fields
