from datetime import date

import pytest

from services.planning.domain.drafting import draft_plan
from services.planning.domain.intake_summary import IntakeSummary, Referral
from services.planning.domain.plan_content import (
    PlanContentError,
    content_from_draft,
    referral_problems,
    stored_changes,
)
from tests.support import planning_data as data

BASELINE = {"NPRS": 7.0, "ODI": 40.0}
DUE = date(2030, 6, 1)
REFERRAL = Referral(8, date(2030, 1, 1), date(2030, 6, 30))


def drafted_content():
    intake = IntakeSummary.from_event_data({**data.intake_completed(), "tenant_id": "t"})
    return content_from_draft(draft_plan(intake, date.today()))


def test_a_draft_is_stored_as_plain_values():
    content = drafted_content()
    assert isinstance(content["start_on"], str) and isinstance(content["goals"][0]["due_on"], str)
    assert content["techniques"][0] == {
        "code": "deep_tissue",
        "name": "Deep tissue massage",
        "notes": [],
    }


def test_edits_are_stored_with_names_and_baselines_from_the_plan():
    stored = stored_changes(
        {
            "techniques": [{"code": "swedish", "notes": ["gentle"]}],
            "goals": [
                {"measure": "NPRS", "target": 4, "due_on": DUE},
                {"measure": "ODI", "target": 30, "due_on": DUE},
            ],
            "start_on": date(2030, 1, 2),
        },
        BASELINE,
    )
    assert stored["techniques"] == [
        {"code": "swedish", "name": "Swedish (relaxation) massage", "notes": ["gentle"]}
    ]
    assert stored["goals"][0] == {
        "measure": "NPRS",
        "better": "lower",
        "baseline": 7.0,
        "target": 4.0,
        "due_on": "2030-06-01",
    }
    assert stored["start_on"] == "2030-01-02"


@pytest.mark.parametrize(
    ("goals", "message"),
    [
        ([{"measure": "NPRS", "target": 4, "due_on": DUE}], "one goal per baseline measure"),
        (
            [
                {"measure": "NPRS", "target": 6, "due_on": DUE},
                {"measure": "ODI", "target": 30, "due_on": DUE},
            ],
            "NPRS: target 6 is less than the MCID",
        ),
        (
            [
                {"measure": "NPRS", "target": -1, "due_on": DUE},
                {"measure": "ODI", "target": 30, "due_on": DUE},
            ],
            "outside 0-10",
        ),
    ],
)
def test_goals_must_cover_each_baseline_measure_with_at_least_the_mcid(goals, message):
    with pytest.raises(PlanContentError, match=message) as raised:
        stored_changes({"goals": goals}, BASELINE)
    assert list(raised.value.errors) == ["goals"]


def test_unknown_techniques_are_named():
    with pytest.raises(PlanContentError, match="cupping"):
        stored_changes({"techniques": [{"code": "cupping"}]}, BASELINE)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({}, []),
        ({"planned_sessions": 9}, ["planned_sessions"]),
        ({"start_on": "2029-12-31"}, ["start_on"]),
        ({"end_on": "2030-07-01"}, ["end_on"]),
        ({"start_on": "2030-03-01", "end_on": "2030-02-01"}, ["end_on"]),
    ],
)
def test_a_plan_must_fit_the_referrals_visits_and_dates(changes, fields):
    content = {"planned_sessions": 8, "start_on": "2030-01-01", "end_on": "2030-06-30", **changes}
    assert sorted(referral_problems(content, REFERRAL)) == fields
