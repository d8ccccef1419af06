"""The charts a referrer's progress report carries: one SVG per measure from the event alone,
the same chart the console draws; none for a patient, none for another event."""

from __future__ import annotations

from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from services.notifications.domain.progress_charts import SVG, charts_for

ZONE = ZoneInfo("America/Chicago")
NS = "{http://www.w3.org/2000/svg}"
DATA = {
    "plan_id": "plan-1", "referral_id": "ref-1", "patient_id": "pat-1", "location_id": "loc-1",
    "baseline_at": "2026-12-01T15:00:00Z",
    "measures": [{
        "measure": "NPRS", "baseline": 7.0, "latest": 3.0, "change": -4.0, "percent_change": -57.1,
        "clinically_improved": True, "target": 4.0, "goal_met": True,
        "points": [{"score": 5.0, "taken_at": "2026-12-08T15:00:00Z"},
                   {"score": 3.0, "taken_at": "2026-12-15T15:00:00Z"}],
    }],
    "newly_improved": ["NPRS"], "sessions_completed": 2,
}  # fmt: skip


def test_a_referrers_progress_report_carries_each_measures_chart_with_every_point():
    [chart] = charts_for("progress.updated", "referrer", DATA, ZONE)
    assert (chart.filename, chart.content_type) == ("NPRS.svg", SVG)
    svg = ElementTree.fromstring(chart.content)
    desc = svg.find(f"{NS}desc").text
    assert "Baseline 7 on 1 Dec" in desc and "2 measurements since, the latest 3 on 15 Dec" in desc
    assert "goal 4" in desc and "clinically improved." in desc


@pytest.mark.parametrize(
    ("event_type", "audience"),
    [("progress.updated", "patient"), ("progress.updated", "staff"),
     ("plan.completed", "referrer"), ("session.scheduled", "patient")],
)  # fmt: skip
def test_no_one_else_gets_a_chart(event_type, audience):
    assert charts_for(event_type, audience, DATA, ZONE) == ()


def test_an_event_from_before_the_charts_makes_a_report_without_them():
    old = {k: v for k, v in DATA.items() if k != "baseline_at"}
    assert charts_for("progress.updated", "referrer", old, ZONE) == ()


def test_a_measure_without_points_is_its_baseline_alone_and_an_unknown_one_is_left_out():
    bare = {**DATA["measures"][0], "points": []}
    data = {**DATA, "measures": [bare, {**bare, "measure": "NOPE"}]}
    [chart] = charts_for("progress.updated", "referrer", data, ZONE)
    assert b"No measurement since the baseline yet." in chart.content
