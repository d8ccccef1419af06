"""Page 6: the intake. Record one for an accepted referral on the patient's own form (intake
sends the form as data, the same questions as the web form), or review what was submitted (by
the patient or staff), with its screening; record a physician's clearance (clinicians).

API calls: the person (usually kept), the form (or the intake), the patient; a post adds the
change.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from services.console.api_clients import ApiError
from services.console.domain.intake_page import (
    CLEARANCE_FIELDS,
    answers_of,
    clearance_body,
    form_names,
    on_form,
    review,
)
from services.console.domain.offers import may
from services.console.domain.patient_search import full_name
from services.console.domain.precautions import OUTCOME_LABELS
from services.console.web.forms import field_errors
from services.console.web.signed_in import apis, person, signed_in

blp = Blueprint("patient_intake", __name__)


def _offered(action: str) -> None:
    if not may(person().role, action):
        abort(403)


def _form_page(referral_id: str, definition: dict[str, Any], errors=None, status: int = 200):
    patient = apis().intake.patient(definition["patient_id"])
    body = render_template(
        "patients/intake_form.html",
        referral_id=referral_id,
        form=definition,
        patient=patient,
        name=full_name(patient),
        values=request.form,
        errors=errors or {},
    )
    return body, status


@blp.get("/referrals/<referral_id>/intake")
@signed_in
def record_form(referral_id: str):
    _offered("intake.record")
    g.section = "patients"
    return _form_page(referral_id, apis().intake.intake_form(referral_id))


@blp.post("/referrals/<referral_id>/intake")
@signed_in
def record(referral_id: str):
    _offered("intake.record")
    intake = apis().intake
    definition = intake.intake_form(referral_id)
    try:
        recorded = intake.record_intake(referral_id, answers_of(request.form))
    except ApiError as error:
        if error.kind != "invalid":
            raise
        g.section = "patients"
        return _form_page(
            referral_id, definition, field_errors(error, form_names(definition), on_form), 422
        )
    patient = intake.patient(recorded["patient_id"])
    outcome = (recorded.get("screening") or {}).get("outcome", "")
    words = OUTCOME_LABELS.get(outcome, outcome).lower()
    flash(f"Intake recorded for {full_name(patient)}; screening: {words}.", "success")
    return redirect(url_for("patient_intake.show", intake_id=recorded["intake_id"]))


def _review_page(intake: dict[str, Any], errors=None, status: int = 200):
    patient = apis().intake.patient(intake["patient_id"])
    body = render_template(
        "patients/intake_review.html",
        r=review(intake),
        patient=patient,
        name=full_name(patient),
        errors=errors or {},
        values=request.form if errors else {},
    )
    return body, status


@blp.get("/intakes/<intake_id>")
@signed_in
def show(intake_id: str):
    g.section = "patients"
    return _review_page(apis().intake.intake(intake_id))


@blp.post("/intakes/<intake_id>/clearances")
@signed_in
def clear(intake_id: str):
    _offered("intake.clearance")
    intake = apis().intake
    body = clearance_body(request.form)
    try:
        cleared = intake.record_clearance(intake_id, **body)
    except ApiError as error:
        if error.kind not in ("invalid", "conflict"):
            raise
        g.section = "patients"
        current = intake.intake(intake_id)
        status = 409 if error.kind == "conflict" else 422
        return _review_page(current, field_errors(error, CLEARANCE_FIELDS), status)
    patient = intake.patient(cleared["patient_id"])
    outcome = (cleared.get("screening") or {}).get("outcome", "")
    flash(
        f"Clearance by {body['cleared_by']} recorded for {full_name(patient)}; screening now: "
        f"{OUTCOME_LABELS.get(outcome, outcome).lower()}.",
        "success",
    )
    return redirect(url_for("patient_intake.show", intake_id=intake_id))
