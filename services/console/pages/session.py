"""Page 9: one session. When, where and with whom (in the location's zone); the screening's
precautions on the same screen; what the role may do: reschedule, cancel, mark a no-show, and
(clinicians) record it: SOAP notes, techniques, areas, pressure, response and outcome
measurements, each entered as the measure's own questionnaire and scored by planning.

API calls: the person (usually kept), the plan (precautions, techniques, goals), the session
(with its notes for clinicians; from the plan's list of sessions for the front desk, who may
not read notes), the patient. A form post adds its change.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from services.console.api_clients import ApiError
from services.console.domain.booking_form import (
    CANCEL_FIELDS,
    CANCELLED_BY,
    RESCHEDULE_FIELDS,
    booking_body,
    cancel_body,
    on_form,
)
from services.console.domain.calendar import (
    STATUS_LABELS,
    booked_words,
    local_parts,
    therapists_at,
)
from services.console.domain.offers import may
from services.console.domain.patient_names import name_of
from services.console.domain.places import zone_for
from services.console.domain.precautions import plan_precautions
from services.console.domain.session_form import (
    PRESSURE_LEVELS,
    RECORD_FIELDS,
    SOAP,
    measures_for,
    record_body,
    record_errors_on_form,
)
from services.console.web.forms import field_errors, typed
from services.console.web.signed_in import apis, person, signed_in

blp = Blueprint("session", __name__)
SESSION = "/calendar/plans/<plan_id>/sessions/<session_id>"


def _offered(action: str) -> None:
    if not may(person().role, action):
        abort(403)


def _load(
    plan_id: str, session_id: str, plan: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The plan (unless the caller has it), the session (with its notes for a role that may
    read them) and the patient's name."""
    planning = apis().planning
    plan = plan or planning.plan(plan_id)
    if may(person().role, "session.record"):
        session = planning.session(plan_id, session_id)
    else:
        listed = planning.plan_sessions(plan_id)
        session = next((s for s in listed if s["session_id"] == session_id), None)
        if session is None:
            abort(404)
    [patient, *_] = apis().intake.patients([plan["patient_id"]]) or [{}]
    return plan, session, name_of(patient)


def _show(
    plan_id: str,
    session_id: str,
    errors: dict[str, list[str]] | None = None,
    form: str = "",
    status: int = 200,
    plan: dict[str, Any] | None = None,
):
    g.section = "calendar"
    plan, session, patient = _load(plan_id, session_id, plan)
    zone = zone_for(person().places, session["location_id"])
    therapists = therapists_at(person().therapists, session["location_id"])
    content = plan.get("content") or {}
    day, clock = local_parts(session["starts_at"], zone)
    body = render_template(
        "session.html",
        plan=plan,
        s=session,
        patient=patient,
        therapist=therapists.get(session["therapist_id"], session["therapist_id"]),
        therapists=sorted(therapists.items(), key=lambda t: t[1].casefold()),
        zone=zone,
        local_day=day,
        local_time=clock,
        status_label=STATUS_LABELS.get(session["status"], session["status"]),
        precautions=plan_precautions(plan),
        techniques=content.get("techniques") or [],
        areas=content.get("treatment_areas") or [],
        measures=measures_for(plan),
        soap=SOAP,
        pressures=PRESSURE_LEVELS,
        cancelled_by=CANCELLED_BY,
        errors=errors or {},
        failed_form=form,
        values=typed() if errors else {},
        ticked=_ticked() if errors else None,
    )
    return body, status


def _ticked() -> dict[str, list[str]]:
    """The boxes ticked on the refused form (techniques, areas), to tick them again."""
    return {name: request.form.getlist(name) for name in ("techniques", "areas")}


def _words(session: dict[str, Any]) -> str:
    zone = zone_for(person().places, session["location_id"])
    therapists = therapists_at(person().therapists, session["location_id"])
    return booked_words(session, zone, therapists.get(session["therapist_id"], "the therapist"))


def _back(plan_id: str, session_id: str):
    return redirect(url_for("session.show", plan_id=plan_id, session_id=session_id))


@blp.get(SESSION)
@signed_in
def show(plan_id: str, session_id: str):
    return _show(plan_id, session_id)


@blp.post(f"{SESSION}/reschedule")
@signed_in
def reschedule(plan_id: str, session_id: str):
    _offered("session.reschedule")
    body, errors = booking_body(request.form, rescheduling=True)
    if errors:
        return _show(plan_id, session_id, errors, "reschedule", 422)
    try:
        moved = apis().planning.reschedule_session(plan_id, session_id, body)
    except ApiError as error:
        if error.kind not in ("invalid", "conflict"):
            raise
        errors = field_errors(error, RESCHEDULE_FIELDS, on_form)
        status = 409 if error.kind == "conflict" else 422
        return _show(plan_id, session_id, errors, "reschedule", status)
    flash(f"Session moved to {_words(moved)}.", "success")
    return _back(plan_id, session_id)


@blp.post(f"{SESSION}/cancel")
@signed_in
def cancel(plan_id: str, session_id: str):
    _offered("session.cancel")
    body, errors = cancel_body(request.form)
    if errors:
        return _show(plan_id, session_id, errors, "cancel", 422)
    try:
        cancelled = apis().planning.cancel_session(plan_id, session_id, body)
    except ApiError as error:
        if error.kind not in ("invalid", "conflict"):
            raise
        errors = field_errors(error, CANCEL_FIELDS)
        status = 409 if error.kind == "conflict" else 422
        return _show(plan_id, session_id, errors, "cancel", status)
    who = "the patient" if body["cancelled_by"] == "patient" else "the clinic"
    flash(f"Session of {_words(cancelled)} cancelled (by {who}).", "success")
    return _back(plan_id, session_id)


@blp.post(f"{SESSION}/no-show")
@signed_in
def no_show(plan_id: str, session_id: str):
    _offered("session.no_show")
    try:
        missed = apis().planning.mark_no_show(plan_id, session_id)
    except ApiError as error:
        if error.kind != "conflict":
            raise
        return _show(plan_id, session_id, {"_form": [error.message]}, "no_show", 409)
    flash(f"Session of {_words(missed)} marked as a no-show.", "success")
    return _back(plan_id, session_id)


@blp.post(f"{SESSION}/record")
@signed_in
def record(plan_id: str, session_id: str):
    _offered("session.record")
    plan = apis().planning.plan(plan_id)
    measures = measures_for(plan)
    body, errors = record_body(
        request.form, request.form.getlist("techniques"), request.form.getlist("areas"), measures
    )
    if errors:
        return _show(plan_id, session_id, errors, "record", 422, plan)
    try:
        done = apis().planning.complete_session(plan_id, session_id, body)
    except ApiError as error:
        if error.kind not in ("invalid", "conflict"):
            raise
        fields = [*RECORD_FIELDS, *(f"m-{m.code}" for m in measures)]
        errors = field_errors(error, fields, lambda found: record_errors_on_form(found, measures))
        status = 409 if error.kind == "conflict" else 422
        return _show(plan_id, session_id, errors, "record", status, plan)
    scores = ", ".join(f"{m['measure']} {m['score']:g}" for m in done.get("measurements") or [])
    flash(
        f"Session of {_words(done)} recorded{'; ' + scores if scores else ''}.",
        "success",
    )
    return _back(plan_id, session_id)
