"""Page 11: discharge. Complete an active plan, or discontinue a held, draft or active one (the
sessions still to come are cancelled by planning), with a preview of the discharge report the
referrer will receive.

API calls: the person (usually kept), the plan, its progress, its referral (the patient's
name and the partner's id); a post adds the change.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from services.console.api_clients import ApiError
from services.console.domain.discharge_preview import OUTCOMES, discharge_preview
from services.console.domain.places import zone_for
from services.console.domain.plan_page import conflict_notice, plan_facts
from services.console.pages.plans import offered
from services.console.web.forms import field_errors, typed
from services.console.web.signed_in import apis, person, signed_in

blp = Blueprint("discharge", __name__)
MEASURED = ("draft", "active", "completed", "discontinued")
CLOSABLE = {"complete": ("active",), "discontinue": ("held", "draft", "active")}


def _load(plan_id: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    planning = apis().planning
    plan = planning.plan(plan_id)
    progress = planning.progress(plan_id) if plan["status"] in MEASURED else {}
    referral = apis().intake.referral(plan["referral_id"]) if plan.get("referral_id") else None
    return plan, progress, referral


def _show(plan, progress, referral, errors=None, failed="", conflict="", status=200):
    g.section = "plans"
    facts = plan_facts(plan, referral, person().places, person().user_id)
    values = typed() if errors or conflict else {}
    preview = discharge_preview(
        plan,
        progress,
        patient=facts.patient,
        partner_referral_id=facts.partner_referral_id,
        clinic=person().clinic_name,
        reason=values.get("reason", "") if failed == "complete" else "",
    )
    body = render_template(
        "discharge.html",
        p=facts,
        preview=preview,
        closable={k: plan["status"] in v for k, v in CLOSABLE.items()},
        errors=errors or {},
        failed=failed,
        values=values,
        conflict=conflict,
    )
    return body, status


@blp.get("/plans/<plan_id>/discharge")
@signed_in
def show(plan_id: str):
    offered("plan.discharge")
    return _show(*_load(plan_id))


@blp.post("/plans/<plan_id>/<outcome>")
@signed_in
def close(plan_id: str, outcome: str):
    if outcome not in OUTCOMES:
        abort(404)
    offered("plan.discharge")
    plan, progress, referral = _load(plan_id)
    reason = request.form.get("reason", "").strip()
    version = request.form.get("version", "")
    try:
        closed = apis().planning.close_plan(
            plan_id, outcome, int(version) if version.isdigit() else -1, reason
        )
    except ApiError as error:
        if error.kind not in ("invalid", "conflict"):
            raise
        if error.current is not None:
            zone = zone_for(person().places, plan.get("location_id"))
            notice = conflict_notice(error.current, person().user_id, zone)
            return _show(plan, progress, referral, None, outcome, notice, 409)
        errors = field_errors(error, ("reason",))
        status = 409 if error.kind == "conflict" else 422
        return _show(plan, progress, referral, errors, outcome, "", status)
    name = plan_facts(closed, referral, person().places, person().user_id).patient
    if outcome == "complete":
        flash(f"Plan for {name} completed; the referrer is sent the discharge report.", "success")
    else:
        flash(f"Plan for {name} discontinued: {reason}.", "success")
    return redirect(url_for("plans.show", plan_id=plan_id))
