"""Page 7: a treatment plan. The draft planning made, edited (goals, techniques, frequency,
precautions) and approved by a clinician; a stale edit is shown as "changed by X at T" beside
the current version. And the "Plans" list: one status a tab (drafts to approve first).

API calls: the person (usually kept); the list: one page of plans and its patients' names; the
plan: the plan and its referral (the patient's name, the partner's id); a post adds the change.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from services.console.api_clients import ApiError
from services.console.domain.offers import may
from services.console.domain.paging import asked_page, page_count
from services.console.domain.places import zone_for
from services.console.domain.plan_form import (
    FIELD_LABELS,
    edit_body,
    editable,
    form_fields,
    form_values,
    goal_rows,
    on_form,
)
from services.console.domain.plan_page import (
    DEFAULT_TAB,
    TABS,
    conflict_notice,
    names_of,
    plan_facts,
    plan_row,
)
from services.console.domain.precautions import plan_precautions
from services.console.web.forms import field_errors, typed
from services.console.web.signed_in import apis, person, signed_in

blp = Blueprint("plans", __name__)
PAGE_SIZE = 20  # intake names at most 20 patients a call


def offered(action: str) -> None:
    """403 for an action the person's role is not offered (the API would refuse it too)."""
    if not may(person().role, action):
        abort(403)


@blp.get("/plans")
@signed_in
def plans():
    g.section = "plans"
    tab = request.args.get("tab", DEFAULT_TAB)
    tab = tab if tab in TABS else DEFAULT_TAB
    page_number = asked_page(request.args.get("page"))
    found = apis().planning.plans(status=tab, page=page_number, page_size=PAGE_SIZE)
    ids = [p["patient_id"] for p in found["items"] if p.get("patient_id")]
    names = names_of(apis().intake.patients(ids))
    rows = [plan_row(item, names, person().places) for item in found["items"]]
    return render_template(
        "plans.html",
        tabs=TABS,
        tab=tab,
        rows=rows,
        total=found["total"],
        page=page_number,
        pages=page_count(found["total"], PAGE_SIZE),
    )


def _show(
    plan: dict[str, Any],
    referral: dict[str, Any] | None,
    errors: dict | None = None,
    values: dict | None = None,
    conflict: str = "",
    status: int = 200,
):
    g.section = "plans"
    facts = plan_facts(plan, referral, person().places, person().user_id)
    body = render_template(
        "plan.html",
        p=facts,
        precautions=plan_precautions(plan),
        labels=FIELD_LABELS,
        editable=editable(plan["status"]) if may(person().role, "plan.edit") else frozenset(),
        goals=goal_rows(plan),
        values=values if values is not None else form_values(plan),
        errors=errors or {},
        conflict=conflict,
        typed_lines=_typed_lines(plan) if conflict else [],
    )
    return body, status


def _typed_lines(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """What the person typed that the current version does not say, to copy back after a
    stale edit."""
    form, current = typed(), form_values(plan)
    labels = {**FIELD_LABELS}
    for row in goal_rows(plan):
        labels[row.target_field] = f"Goal for {row.measure}"
        labels[row.due_field] = f"Goal for {row.measure}, by"

    def differs(name: str) -> bool:
        return form.get(name, "").strip() != current.get(name, "").strip()

    return [(labels[k], form[k]) for k in labels if form.get(k, "").strip() and differs(k)]


def _load(plan_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    plan = apis().planning.plan(plan_id)
    referral = apis().intake.referral(plan["referral_id"]) if plan.get("referral_id") else None
    return plan, referral


@blp.get("/plans/<plan_id>")
@signed_in
def show(plan_id: str):
    return _show(*_load(plan_id))


def _refused(plan, referral, error: ApiError, goal_order: list[str] | None = None):
    """A refused edit or approval: field errors next to their fields (422); a stale version
    as who changed it when, with the current version (409); another conflict in words."""
    if error.kind not in ("invalid", "conflict"):
        raise error
    if error.kind == "conflict" and error.current is not None:
        zone = zone_for(person().places, plan.get("location_id"))
        notice = conflict_notice(error.current, person().user_id, zone)
        return _show(plan, referral, None, None, notice, 409)
    errors = field_errors(error, form_fields(plan), lambda f: on_form(f, goal_order or []))
    values = typed() if error.kind == "invalid" else form_values(plan)
    return _show(plan, referral, errors, values, "", 409 if error.kind == "conflict" else 422)


def _version() -> int:
    version = request.form.get("version", "")
    return int(version) if version.isdigit() else -1


@blp.post("/plans/<plan_id>")
@signed_in
def edit(plan_id: str):
    offered("plan.edit")
    plan, referral = _load(plan_id)
    body, goal_order, missing = edit_body(plan, request.form)
    body["version"] = _version()  # the version the person saw, never the one just read
    if missing:
        return _show(plan, referral, missing, typed(), "", 422)
    try:
        edited = apis().planning.edit_plan(plan_id, body)
    except ApiError as error:
        return _refused(plan, referral, error, goal_order)
    name = plan_facts(edited, referral, person().places, person().user_id).patient
    if edited["version"] == plan["version"]:
        flash(f"Nothing to save: the plan for {name} already says that.", "notice")
    else:
        flash(f"Plan for {name} saved as version {edited['version']}.", "success")
    return redirect(url_for("plans.show", plan_id=plan_id))


@blp.post("/plans/<plan_id>/approve")
@signed_in
def approve(plan_id: str):
    offered("plan.approve")
    plan, referral = _load(plan_id)
    try:
        approved = apis().planning.approve_plan(plan_id, _version())
    except ApiError as error:
        return _refused(plan, referral, error)
    facts = plan_facts(approved, referral, person().places, person().user_id)
    flash(
        f"Plan for {facts.patient} approved: it is active, and sessions can be booked.", "success"
    )
    return redirect(url_for("plans.show", plan_id=plan_id))
