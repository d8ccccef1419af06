"""Page 3: one referral. The prescriber, diagnoses, visits used and remaining (from planning's
plan), validity and days left, the partner's id, the amendments; and what the role may do:
cancel it, or settle what its review needs (or decline it).

API calls: the person (usually kept), the referral, its plan; a form post adds the change.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from services.console.api_clients import ApiError
from services.console.domain.offers import may
from services.console.domain.referral_page import candidate, candidate_ids, referral_page
from services.console.domain.review_form import (
    DIAGNOSIS_ROWS,
    NEW_PATIENT,
    asked,
    on_form,
    review_body,
    unanswered,
)
from services.console.web.forms import field_errors, typed
from services.console.web.signed_in import apis, deps, person, signed_in

blp = Blueprint("referral", __name__)


def _show(referral: dict[str, Any], errors: dict | None = None, form: str = "", status: int = 200):
    """The page: the referral, its plan once accepted (visits used), the candidate patients of
    an identity to settle."""
    accepted = referral["status"] == "accepted"
    plan = apis().planning.plan_for_referral(referral["referral_id"]) if accepted else None
    page = referral_page(referral, plan, person().places, None, deps().clock())
    candidates = apis().intake.patients(candidate_ids(page.pending))
    body = render_template(
        "referral.html",
        r=page,
        candidates=[candidate(p) for p in candidates],
        asked=asked(page.pending),
        diagnosis_rows=DIAGNOSIS_ROWS,
        new_patient=NEW_PATIENT,
        errors=errors or {},
        failed_form=form,
        values=typed() if errors else {},
    )
    return body, status


def _offered(action: str) -> None:
    if not may(person().role, action):
        abort(403)


@blp.get("/referrals/<referral_id>")
@signed_in
def show(referral_id: str):
    g.section = "referrals"
    return _show(apis().intake.referral(referral_id))


@blp.post("/referrals/<referral_id>/cancel")
@signed_in
def cancel(referral_id: str):
    _offered("referral.cancel")
    intake = apis().intake
    referral = intake.referral(referral_id)
    reason = request.form.get("reason", "").strip()
    try:
        intake.cancel_referral(referral_id, reason)
    except ApiError as error:
        if error.kind not in ("invalid", "conflict"):
            raise
        g.section = "referrals"
        return _show(referral, field_errors(error, ("reason",)), "cancel", 422)
    name = referral_page(referral, None, person().places, None, deps().clock()).patient
    flash(f"Referral {referral['partner_referral_id']} for {name} cancelled.", "success")
    return redirect(url_for("referral.show", referral_id=referral_id))


@blp.post("/referrals/<referral_id>/review")
@signed_in
def review(referral_id: str):
    _offered("referral.review")
    intake = apis().intake
    version = request.form.get("version", "")
    referral = intake.referral(referral_id)
    fields = asked(referral.get("pending") or [])
    body = review_body(fields, request.form, int(version) if version.isdigit() else 0)
    try:
        settled = intake.review_referral(referral_id, body)
    except ApiError as error:
        if error.kind not in ("invalid", "conflict"):
            raise
        g.section = "referrals"
        errors = {
            **unanswered(fields, request.form),
            **field_errors(error, [*_review_fields()], on_form),
        }
        status = 409 if error.kind == "conflict" else 422
        current = referral if error.kind == "invalid" else intake.referral(referral_id)
        return _show(current, errors, "review", status)
    name = referral_page(settled, None, person().places, None, deps().clock()).patient
    if settled["status"] == "accepted":
        flash(f"Referral {settled['partner_referral_id']} for {name} accepted.", "success")
    else:
        waiting = ", ".join(p.get("message", p["item"]) for p in settled.get("pending", []))
        flash(f"Review saved for {name}; still to settle: {waiting}", "success")
    return redirect(url_for("referral.show", referral_id=referral_id))


def _review_fields() -> list[str]:
    rows = [f"diagnoses-{n}-{part}" for n in range(DIAGNOSIS_ROWS) for part in ("code", "display")]
    return [*rows, "authorized_visits", "location_id", "patient"]


@blp.post("/referrals/<referral_id>/decline")
@signed_in
def decline(referral_id: str):
    _offered("referral.decline")
    intake = apis().intake
    version = request.form.get("version", "")
    reason = request.form.get("reason", "").strip()
    try:
        declined = intake.decline_referral(
            referral_id, int(version) if version.isdigit() else 0, reason
        )
    except ApiError as error:
        if error.kind not in ("invalid", "conflict"):
            raise
        g.section = "referrals"
        errors = field_errors(error, ("reason",))
        status = 409 if error.kind == "conflict" else 422
        return _show(intake.referral(referral_id), errors, "decline", status)
    name = referral_page(declined, None, person().places, None, deps().clock()).patient
    flash(
        f"Referral {declined['partner_referral_id']} for {name} declined; the partner is told.",
        "success",
    )
    return redirect(url_for("referral.show", referral_id=referral_id))
