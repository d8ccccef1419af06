"""The outcome chart's geometry: where the baseline, the MCID band, the goal and each
measurement are drawn, and what the chart says in words."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from shared.clinical.outcome_chart import (
    BOTTOM,
    HEIGHT,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    chart_svg,
    improvement_threshold,
    outcome_chart,
)

START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
ZONE = ZoneInfo("America/New_York")
PLOT_BOTTOM, PLOT_RIGHT = HEIGHT - BOTTOM, WIDTH - RIGHT


def day(n: int) -> datetime:
    return START + timedelta(days=n)


@pytest.mark.parametrize(
    ("measure", "baseline", "threshold"),
    [
        ("NPRS", 7, 5.0),  # 2 points (30 % would ask 2.1)
        ("NPRS", 5, 3.5),  # 30 % of 5 = 1.5 asks less than 2 points
        ("NPRS", 1, 0.7),
        ("NPRS", 0, 0.0),  # nothing to improve: the band is empty
        ("ODI", 40, 30.0),  # 10 points; 30 % would ask 12
        ("PSFS", 3, 5.0),  # higher is better, no relative rule
        ("PSFS", 9, 10.0),  # clamped to the scale
        ("LEFS", 75, 80.0),
    ],
)
def test_the_band_ends_where_the_change_counts_as_clinically_improved(measure, baseline, threshold):
    assert improvement_threshold(measure, baseline) == threshold


def test_nprs_7_to_4_is_drawn_past_the_band_and_below_the_goal_line():
    chart = outcome_chart("NPRS", 7, day(0), [(6, day(7)), (4, day(14))], 5, ZONE)

    scale = (PLOT_BOTTOM - TOP) / 10  # NPRS 0-10 over the plot's height
    assert chart.baseline_y == pytest.approx(PLOT_BOTTOM - 7 * scale)
    assert chart.improved_y == pytest.approx(PLOT_BOTTOM - 5 * scale)
    assert chart.band_top == pytest.approx(chart.baseline_y)
    assert chart.band_height == pytest.approx(2 * scale)
    assert chart.goal_y == pytest.approx(PLOT_BOTTOM - 5 * scale)

    baseline, first, latest = chart.points
    assert (baseline.x, first.x, latest.x) == (
        LEFT,
        pytest.approx((LEFT + PLOT_RIGHT) / 2),
        PLOT_RIGHT,
    )
    assert [p.improved for p in chart.points] == [False, False, True]
    assert latest.y > chart.improved_y  # lower is better: improved is drawn below the band
    assert chart.line.startswith(f"{LEFT:.1f},{baseline.y:.1f} ")
    assert "latest 4 on 15 Dec: clinically improved" in chart.summary
    assert "clinically improved at 5 or below; goal 5" in chart.summary


def test_higher_is_better_puts_the_band_above_the_baseline():
    chart = outcome_chart("PSFS", 3, day(0), [(5.5, day(10))], None, ZONE)
    assert chart.improved_y < chart.baseline_y
    assert chart.band_top == pytest.approx(chart.improved_y)
    assert chart.goal_y is None and "no goal set" in chart.summary
    assert chart.points[-1].improved is True
    assert "clinically improved at 5 or above" in chart.summary


def test_a_chart_with_only_the_baseline_says_so_and_stays_in_the_plot():
    chart = outcome_chart("ODI", 40, day(0), [], 30, ZONE)
    [only] = chart.points
    assert only.x == LEFT and TOP <= only.y <= PLOT_BOTTOM
    assert "No measurement since the baseline yet." in chart.summary
    assert [t.label for t in chart.x_ticks] == ["1 Dec"]


def test_measurements_at_one_moment_are_spread_and_a_score_off_the_scale_is_clamped():
    chart = outcome_chart("NPRS", 7, day(0), [(4, day(0)), (12, day(0))], None, ZONE)
    xs = [p.x for p in chart.points]
    assert xs == sorted(xs) and xs[0] == LEFT and xs[-1] == PLOT_RIGHT
    assert chart.points[-1].y == pytest.approx(TOP)


def test_dates_are_the_locations_days_and_at_most_six_labels():
    late_evening = datetime(2026, 12, 2, 3, 30, tzinfo=UTC)  # 1 Dec, 22:30 in New York
    chart = outcome_chart(
        "NPRS", 7, late_evening, [(7 - n % 3, day(n)) for n in range(1, 20)], 5, ZONE
    )
    labels = [t.label for t in chart.x_ticks]
    assert labels[0] == "1 Dec" and len(labels) <= 6
    assert len(set(labels)) == len(labels)
    assert all(LEFT <= t.at <= PLOT_RIGHT for t in chart.x_ticks)
    assert [t.label for t in chart.y_ticks] == ["0", "2.5", "5", "7.5", "10"]


def test_the_baseline_is_drawn_first_even_when_a_measurement_is_dated_earlier():
    chart = outcome_chart("NPRS", 7, day(1), [(4, day(0))], None, ZONE)
    baseline, latest = chart.points
    assert baseline.x == LEFT and latest.x == PLOT_RIGHT and baseline.at <= latest.at


def test_the_svg_is_an_image_of_its_own_with_its_words_and_no_style_or_script():
    chart = outcome_chart("NPRS", 7, day(0), [(6, day(7)), (4, day(14))], 5, ZONE)
    text = chart_svg(chart, "chart-NPRS")
    root = ElementTree.fromstring(text.encode())  # well-formed, with its declaration
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg" and root.get("role") == "img"
    assert root.find(f"{ns}title").text == chart.title
    assert root.find(f"{ns}desc").text == chart.summary
    assert len(root.findall(f".//{ns}circle")) == 2 + 2  # the two measurements, two in the legend
    assert "style" not in text and "script" not in text


def test_the_svg_in_a_page_has_no_namespace_and_its_words_are_escaped():
    chart = outcome_chart("NPRS", 7, day(0), [(6, day(7))], None, ZONE)
    hostile = replace(chart, title="<b>&'\"", summary="</desc><script>1</script>")
    text = chart_svg(hostile, 'x" onload="1', standalone=False)
    assert text.startswith("<svg ") and "xmlns" not in text
    root = ElementTree.fromstring(text)
    assert "onload" not in root.attrib and root.get("aria-labelledby").startswith('x" onload')
    assert root.find("title").text == "<b>&'\"" and not root.findall(".//script")
