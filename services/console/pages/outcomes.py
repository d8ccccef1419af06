"""Page 10: a plan's outcomes. Per measure, a chart over time drawn as SVG by the server (no
script needed to see it): the baseline, each measurement, the goal and the MCID band, with the
same numbers as a table; and each chart as an image of its own (`.svg`) for a report.

API calls: the person (usually kept), the plan, its progress (every measurement), its referral
(the patient's name); the image: the plan and its progress.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, g, render_template
from markupsafe import Markup

from services.console.domain.places import zone_for
from services.console.domain.plan_page import plan_facts
from services.console.domain.times import parse_instant
from services.console.pages.plans import offered
from services.console.web.signed_in import apis, person, signed_in
from shared.clinical.outcome_chart import OutcomeChart, chart_svg, number, outcome_chart

blp = Blueprint("outcomes", __name__)


def charts(plan: dict[str, Any], progress: dict[str, Any]) -> list[OutcomeChart]:
    """One chart per measure with a baseline, from the progress's points (times in the zone)."""
    zone = zone_for(person().places, plan.get("location_id"))
    baseline_at = parse_instant(plan.get("created_at"))
    made = []
    for m in progress.get("measures", ()):
        points = [
            (p["score"], at) for p in m.get("points", ()) if (at := parse_instant(p["taken_at"]))
        ]
        start = baseline_at or (points[0][1] if points else None)
        if start is not None:
            goal = m.get("target")
            made.append(outcome_chart(m["measure"], m["baseline"], start, points, goal, zone))
    return made


@blp.get("/plans/<plan_id>/outcomes")
@signed_in
def show(plan_id: str):
    offered("plan.outcomes")
    g.section = "plans"
    planning = apis().planning
    plan = planning.plan(plan_id)
    progress = planning.progress(plan_id)
    referral = apis().intake.referral(plan["referral_id"]) if plan.get("referral_id") else None
    facts = plan_facts(plan, referral, person().places, person().user_id)
    drawn = charts(plan, progress)
    return render_template(
        "outcomes.html",
        p=facts,
        charts=drawn,
        svgs={
            c.measure: Markup(chart_svg(c, f"chart-{c.measure}", standalone=False)) for c in drawn
        },
        progress=progress,
        measures={m["measure"]: m for m in progress.get("measures", ())},
        zone=zone_for(person().places, plan.get("location_id")),
        number=number,
    )


@blp.get("/plans/<plan_id>/outcomes/<measure>.svg")
@signed_in
def image(plan_id: str, measure: str):
    """One measure's chart as an SVG image of its own (for a report, or to save)."""
    offered("plan.outcomes")
    planning = apis().planning
    plan = planning.plan(plan_id)
    chart = next(
        (c for c in charts(plan, planning.progress(plan_id)) if c.measure == measure), None
    )
    if chart is None:
        abort(404)
    svg = chart_svg(chart, f"chart-{measure}")
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "private, no-store"})
