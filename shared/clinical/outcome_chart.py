"""An outcome chart: one measure of one plan over time, as SVG text, so no script is needed to
see it. The console shows it on a plan's outcomes page and serves it as an image of its own;
notifications attaches it to the referrer's progress report. Both draw it here, once.

What it shows: the score axis over the measure's whole scale, the baseline (the intake's score)
as a line, the MCID band (from the baseline to the score that counts as "clinically improved":
the points MCID, or the relative one where the measure has one and it asks less), the goal as a
dashed line, and each measurement as a point in time, joined from the baseline. A point past the
band is clinically improved and drawn filled; one inside it is drawn hollow. Pure: numbers and
labels in, coordinates and words out (`outcome_chart`), then those as SVG (`chart_svg`):
presentation attributes only (no style, no script), `role="img"` with its `<title>` and `<desc>`
(the same words a page gives as a table), every text escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from shared.clinical.outcome_measures import MEASURES, is_clinically_improved

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 24, 56
"""The plot area's margins: room for the score labels (left) and the dates (below)."""
Y_TICKS = 5
MOST_X_LABELS = 6


@dataclass(frozen=True)
class Point:
    """A score on the chart: where it is drawn, and what it says."""

    x: float
    y: float
    score: float
    at: datetime
    when: str
    """The day, short (`9 Dec`), for the axis."""
    improved: bool
    label: str


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class OutcomeChart:
    measure: str
    name: str
    better: str
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    baseline_y: float
    band_top: float
    band_height: float
    improved_at: float
    """The score that counts as clinically improved (the band's far edge)."""
    improved_y: float
    goal: float | None
    goal_y: float | None
    points: tuple[Point, ...]
    """The baseline first, then each measurement, oldest first."""
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    title: str
    summary: str

    @property
    def line(self) -> str:
        """The polyline's points attribute: the baseline, then every measurement."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def number(value: float) -> str:
    """A score as staff read it: `4` rather than `4.0`, `42.5` as is."""
    return f"{value:g}"


def improvement_threshold(measure: str, baseline: float) -> float:
    """The score from which the patient counts as clinically improved over `baseline`: the
    smaller of the two steps the measure allows (points MCID, or its relative MCID), clamped
    to the scale."""
    spec = MEASURES[measure]
    step = spec.mcid_points
    if spec.mcid_percent is not None and baseline != 0:
        step = min(step, abs(baseline) * spec.mcid_percent)
    if spec.better == "lower":
        return round(max(spec.score_min, baseline - step), 1)
    return round(min(spec.score_max, baseline + step), 1)


def _x_positions(moments: Sequence[datetime], left: float, right: float) -> list[float]:
    """Where each moment is, by its time; all at one moment (or one alone): evenly spread."""
    first, last = min(moments), max(moments)
    span = (last - first).total_seconds()
    if span <= 0:
        if len(moments) == 1:
            return [left]
        step = (right - left) / (len(moments) - 1)
        return [left + i * step for i in range(len(moments))]
    return [left + (m - first).total_seconds() / span * (right - left) for m in moments]


def _day(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.day} {local:%b}"


def _x_ticks(xs: Sequence[float], labels: Sequence[str]) -> tuple[Tick, ...]:
    """At most `MOST_X_LABELS` date labels, the first and last always, none repeated."""
    if not xs:
        return ()
    every = max(1, -(-len(xs) // MOST_X_LABELS))
    chosen = sorted({*range(0, len(xs), every), len(xs) - 1})
    ticks: list[Tick] = []
    for i in chosen:
        if ticks and (ticks[-1].label == labels[i] or xs[i] - ticks[-1].at < 40):
            continue
        ticks.append(Tick(xs[i], labels[i]))
    return tuple(ticks)


def outcome_chart(
    measure: str,
    baseline: float,
    baseline_at: datetime,
    measurements: Sequence[tuple[float, datetime]],
    goal: float | None,
    zone: ZoneInfo,
) -> OutcomeChart:
    """The chart of one measure: `baseline` taken at `baseline_at` (the intake), the later
    `measurements` as (score, when), the plan's `goal` (None: no goal on this measure)."""
    spec = MEASURES[measure]
    left, right, top, bottom = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    low, high = spec.score_min, spec.score_max

    def on_scale(score: float) -> float:
        return min(max(score, low), high)

    def y_of(score: float) -> float:
        return bottom - (on_scale(score) - low) / (high - low) * (bottom - top)

    ordered = sorted(measurements, key=lambda m: m[1])
    if ordered and ordered[0][1] < baseline_at:  # the baseline comes first, whatever the clocks
        baseline_at = ordered[0][1]
    moments = [baseline_at, *(m[1] for m in ordered)]
    xs = _x_positions(moments, left, right)
    threshold = improvement_threshold(measure, on_scale(baseline))
    points = [
        Point(
            xs[0], y_of(baseline), baseline, baseline_at, _day(baseline_at, zone), False, "baseline"
        )
    ]
    for x, (score, moment) in zip(xs[1:], ordered, strict=True):
        improved = is_clinically_improved(measure, on_scale(baseline), on_scale(score))
        word = "clinically improved" if improved else "not yet clinically improved"
        points.append(Point(x, y_of(score), score, moment, _day(moment, zone), improved, word))
    band_edges = sorted((y_of(baseline), y_of(threshold)))
    step = (high - low) / (Y_TICKS - 1)
    y_ticks = tuple(
        Tick(y_of(low + i * step), number(round(low + i * step, 1))) for i in range(Y_TICKS)
    )
    latest = points[-1]
    better = "lower" if spec.better == "lower" else "higher"
    summary = (
        f"{spec.name}, {better} is better, on a scale of {number(low)} to {number(high)}. "
        f"Baseline {number(baseline)} on {points[0].when}; clinically improved at "
        f"{number(threshold)} or {'below' if better == 'lower' else 'above'}"
        + (f"; goal {number(goal)}" if goal is not None else "; no goal set")
        + (
            f". {len(ordered)} measurement{'' if len(ordered) == 1 else 's'} since, the latest "
            f"{number(latest.score)} on {latest.when}: {latest.label}."
            if ordered
            else ". No measurement since the baseline yet."
        )
    )
    return OutcomeChart(
        measure=measure,
        name=spec.name,
        better=better,
        width=WIDTH,
        height=HEIGHT,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        baseline_y=y_of(baseline),
        band_top=band_edges[0],
        band_height=band_edges[1] - band_edges[0],
        improved_at=threshold,
        improved_y=y_of(threshold),
        goal=goal,
        goal_y=None if goal is None else y_of(goal),
        points=tuple(points),
        y_ticks=y_ticks,
        x_ticks=_x_ticks(xs, [p.when for p in points]),
        title=f"{spec.name} ({measure}) over time",
        summary=summary,
    )


SVG_NAMESPACE = "http://www.w3.org/2000/svg"
INK, MUTED, GRID, BAND, LINE, GOAL, EDGE = (
    "#1b1f24", "#4a5360", "#e1e5ea", "#fbe7b2", "#0b5cad", "#1d6b32", "#7a4a00",
)  # fmt: skip


def _f(value: float) -> str:
    return f"{value:.1f}"


def _hline(c: OutcomeChart, y: float, stroke: str, width: float, dashes: str = "") -> str:
    dashed = f' stroke-dasharray="{dashes}"' if dashes else ""
    return (
        f'<line x1="{c.left}" x2="{c.right}" y1="{_f(y)}" y2="{_f(y)}" stroke="{stroke}" '
        f'stroke-width="{width}"{dashed}/>'
    )


def _x_anchor(c: OutcomeChart, tick: Tick, first: bool) -> str:
    if first and tick.at <= c.left + 1:
        return "start"
    return "end" if tick.at >= c.right - 1 else "middle"


def _marker(point: Point, first: bool) -> str:
    if first:  # the baseline: a square
        return (
            f'<rect x="{_f(point.x - 5)}" y="{_f(point.y - 5)}" width="10" height="10" '
            f'fill="{MUTED}"/>'
        )
    if point.improved:
        return (
            f'<circle cx="{_f(point.x)}" cy="{_f(point.y)}" r="6" fill="{GOAL}" '
            'stroke="#ffffff" stroke-width="1.5"/>'
        )
    return (
        f'<circle cx="{_f(point.x)}" cy="{_f(point.y)}" r="5.5" fill="#ffffff" '
        f'stroke="{LINE}" stroke-width="2.5"/>'
    )


LEGEND = (
    f'<rect x="0" y="-9" width="12" height="10" fill="{BAND}"/>'
    f'<text x="16" y="0" fill="{INK}">MCID band</text>'
    f'<line x1="100" x2="124" y1="-4" y2="-4" stroke="{GOAL}" stroke-width="2" '
    f'stroke-dasharray="8 5"/><text x="130" y="0" fill="{INK}">Goal</text>'
    f'<circle cx="186" cy="-4" r="5" fill="{GOAL}"/>'
    f'<text x="196" y="0" fill="{INK}">Clinically improved</text>'
    f'<circle cx="340" cy="-4" r="4.5" fill="#ffffff" stroke="{LINE}" stroke-width="2"/>'
    f'<text x="350" y="0" fill="{INK}">Not yet</text>'
    f'<rect x="416" y="-9" width="10" height="10" fill="{MUTED}"/>'
    f'<text x="432" y="0" fill="{INK}">Baseline</text>'
)


def chart_svg(c: OutcomeChart, chart_id: str, *, standalone: bool = True) -> str:
    """The chart as SVG text: `standalone`, an image of its own (its XML namespace and
    declaration: a `.svg` file, an email's attachment); else an element to put in a page.
    `chart_id` names its title and description (unique within a page)."""
    ids = quoteattr(f"{chart_id}-title {chart_id}-desc")
    head = f' xmlns="{SVG_NAMESPACE}"' if standalone else ""
    parts = [
        f'<svg{head} viewBox="0 0 {c.width} {c.height}" width="{c.width}" '
        f'height="{c.height}" role="img" aria-labelledby={ids} class="chart" '
        'font-family="system-ui, sans-serif" font-size="13">',
        f"<title id={quoteattr(chart_id + '-title')}>{escape(c.title)}</title>",
        f"<desc id={quoteattr(chart_id + '-desc')}>{escape(c.summary)}</desc>",
        f'<rect x="0" y="0" width="{c.width}" height="{c.height}" fill="#ffffff"/>',
        '<g aria-hidden="true">',
    ]
    for t in c.y_ticks:
        parts.append(_hline(c, t.at, GRID, 1))
        parts.append(
            f'<text x="{c.left - 8}" y="{_f(t.at + 4)}" text-anchor="end" '
            f'fill="{MUTED}">{escape(t.label)}</text>'
        )
    parts.append(
        f'<rect x="{c.left}" y="{_f(c.band_top)}" width="{c.right - c.left}" '
        f'height="{_f(c.band_height)}" fill="{BAND}" fill-opacity="0.8"/>'
    )
    parts.append(_hline(c, c.baseline_y, MUTED, 2))
    parts.append(_hline(c, c.improved_y, EDGE, 1.5, "2 3"))
    if c.goal_y is not None:
        parts.append(_hline(c, c.goal_y, GOAL, 2, "8 5"))
    parts.append(
        f'<line x1="{c.left}" x2="{c.left}" y1="{c.top}" y2="{c.bottom}" stroke="{INK}" '
        'stroke-width="1"/>'
    )
    parts.append(_hline(c, c.bottom, INK, 1))
    for i, t in enumerate(c.x_ticks):
        parts.append(
            f'<text x="{_f(t.at)}" y="{c.bottom + 18}" text-anchor="{_x_anchor(c, t, i == 0)}" '
            f'fill="{MUTED}">{escape(t.label)}</text>'
        )
    parts.append(f'<polyline points="{c.line}" fill="none" stroke="{LINE}" stroke-width="2.5"/>')
    parts.extend(_marker(p, i == 0) for i, p in enumerate(c.points))
    parts.append(f'<g transform="translate({c.left}, {c.height - 14})">{LEGEND}</g>')
    parts.append("</g></svg>")
    body = "\n".join(parts)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n' if standalone else body
