"""The outcome charts a referrer's progress report carries: one SVG image per measure, the same
chart the console shows on the plan's outcomes page (`shared.clinical.outcome_chart`), drawn
from the `progress.updated` event alone (its measures' `points` and `baseline_at`), with its
dates in the plan's location's zone.

Only a referrer's letter carries them (`charts_for`): a patient's message carries no clinical
content, so it never gets one, whatever its template asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.clinical.outcome_chart import chart_svg, outcome_chart
from shared.clinical.outcome_measures import MEASURES

CHART_EVENTS = frozenset({"progress.updated"})
SVG = "image/svg+xml"


@dataclass(frozen=True)
class Attachment:
    """A file a message carries: its name, its media type, its content."""

    filename: str
    content_type: str
    content: bytes


def charts_for(
    event_type: str, audience: str, data: Mapping[str, Any], zone: ZoneInfo
) -> tuple[Attachment, ...]:
    """The charts to attach to a message of `audience` about this event (none for a patient,
    none for an event without measurements to draw)."""
    if audience != "referrer" or event_type not in CHART_EVENTS:
        return ()
    baseline_at = _instant(data.get("baseline_at"))
    if baseline_at is None:
        return ()  # an event from before the charts: the report goes without
    charts = []
    for m in data.get("measures") or ():
        if not isinstance(m, Mapping) or m.get("measure") not in MEASURES:
            continue
        points = [
            (float(p["score"]), at)
            for p in m.get("points") or ()
            if isinstance(p, Mapping) and (at := _instant(p.get("taken_at"))) is not None
        ]
        chart = outcome_chart(
            m["measure"], float(m["baseline"]), baseline_at, points, m.get("target"), zone
        )
        svg = chart_svg(chart, f"chart-{m['measure']}")
        charts.append(Attachment(f"{m['measure']}.svg", SVG, svg.encode("utf-8")))
    return tuple(charts)


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
