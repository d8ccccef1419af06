"""The patient's intake form at `/intake/<token>`: server-rendered HTML, no login.

GET shows the form for the referral the link opens. POST refuses a cross-site request (403),
then a link that no longer opens anything, then a missing or foreign form token (403); it reads
and checks the answers (422 and the form again, each error beside its field, with what was
typed), and runs `complete_intake` (the staff API's use case) with `completed_by="patient"`.
Whatever goes wrong with the link, the patient gets a plain page saying what to do, and never
anything about a patient. These routes are HTML, not API: the blueprint is a plain Flask one,
registered outside the OpenAPI document.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, make_response, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from services.intake.api.common import db, settings
from services.intake.domain import intake_link
from services.intake.domain.intake_link import InvalidLink, LinkTarget
from services.intake.errors import Conflict, Invalid, NotFound
from services.intake.repository.patient_data import Patients, Referrals
from services.intake.usecases import intakes as assessment
from services.intake.usecases import patient_matching as patients
from services.intake.usecases import tenants as access
from services.intake.web_form import forgery
from services.intake.web_form.field_errors import field_errors
from services.intake.web_form.form_check import check
from services.intake.web_form.form_input import (
    CONSENT_VERSION,
    SURGERY_ROWS,
    SYMPTOM_ROWS,
    read_form,
)
from services.intake.web_form.pages import PROBLEMS, SECURITY_HEADERS
from services.intake.web_form.questionnaires import QUESTIONNAIRES, Questionnaire
from services.intake.web_form.screening_questions import QUESTIONS
from shared import audit
from shared.web.errors import RETRY_AFTER_S, UNAVAILABLE_ERRORS

log = logging.getLogger("intake.web_form")

blp = Blueprint(
    "intake_form",
    __name__,
    url_prefix="/intake",
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)


@dataclass(frozen=True)
class FormPage:
    """What the page needs of the referral: no name, contact or diagnosis is shown on it."""

    target: LinkTarget
    clinic_name: str
    patient_id: str
    questionnaires: list[Questionnaire]


def _page(template: str, status: int, **context: Any) -> Response:
    response = make_response(render_template(f"intake_form/{template}", **context), status)
    response.headers.update(SECURITY_HEADERS)
    return response


def _problem(kind: str) -> Response:
    problem = PROBLEMS[kind]
    return _page("problem.html", problem.status, problem=problem)


def _load(target: LinkTarget) -> FormPage:
    referral = Referrals(db(), target.tenant_id).get(target.referral_id)
    if referral is None:
        raise NotFound("referral")
    codes = [d["code"] for d in referral["terms"].get("diagnoses", [])]
    return FormPage(
        target,
        access.get_tenant(db(), target.tenant_id)["name"],
        referral["patient_id"],
        QUESTIONNAIRES.for_diagnoses(codes),
    )


def _actor(target: LinkTarget) -> str:
    return f"intake-link:{target.referral_id}"


def _open(token: str) -> FormPage | str:
    """The page the link opens, or the kind of problem it has (a key of `PROBLEMS`)."""
    try:
        return _load(intake_link.resolve(db(), settings(), token))
    except InvalidLink as error:
        return error.problem
    except NotFound:
        return "invalid"


def _form(
    token: str, page: FormPage, values: Any, errors: Mapping[str, str], status: int
) -> Response:
    audit.record(
        db(),
        actor=_actor(page.target),
        tenant_id=page.target.tenant_id,
        action="intake_form.show",
        object_type="referral",
        object_id=page.target.referral_id,
        outcome="ok" if not errors else "invalid",
    )
    return _page(
        "form.html",
        status,
        clinic_name=page.clinic_name,
        action=url_for(".submit", token=token),
        csrf_token=forgery.form_token(settings(), token),
        questionnaires=page.questionnaires,
        questions=QUESTIONS,
        values=values,
        errors=errors,
        surgery_rows=range(1, SURGERY_ROWS + 1),
        symptom_rows=range(1, SYMPTOM_ROWS + 1),
        consent_version=CONSENT_VERSION,
    )


def _current_problem(token: str) -> str:
    """Why a link that worked a moment ago is refused now (cancelled, or sent meanwhile)."""
    opened = _open(token)
    return opened if isinstance(opened, str) else "used"


def _is_cross_site() -> bool:
    ours = [settings().own.public_base_url, request.host_url]
    return not forgery.is_same_origin(
        request.headers.get("Origin"), request.headers.get("Referer"), ours
    )


def _refused_as_forged() -> Response:
    log.warning("refused a patient form post: foreign origin or bad form token")
    return _problem("forged")


@blp.get("/<token>")
def show(token: str) -> Response:
    page = _open(token)
    if isinstance(page, str):
        return _problem(page)
    consent = patients.consent_of(Patients(db(), page.target.tenant_id).get(page.patient_id) or {})
    defaults = MultiDict({f"contact_{k}": "yes" for k, ok in consent.items() if ok})
    return _form(token, page, defaults, {}, 200)


@blp.post("/<token>")
def submit(token: str) -> Response:
    if _is_cross_site():
        return _refused_as_forged()
    page = _open(token)
    if isinstance(page, str):
        return _problem(page)
    if not forgery.is_form_token_valid(settings(), token, request.form.get("csrf_token")):
        return _refused_as_forged()
    reading = read_form(request.form, page.questionnaires)
    loaded, errors = check(reading, page.questionnaires)
    if loaded is None:
        return _form(token, page, request.form, errors, 422)
    try:
        assessment.complete_intake(
            db(),
            tenant_id=page.target.tenant_id,
            referral_id=page.target.referral_id,
            form=loaded,
            completed_by="patient",
            actor=_actor(page.target),
        )
    except Conflict:
        return _problem(_current_problem(token))
    except NotFound:
        return _problem("invalid")
    except Invalid as error:
        errors = field_errors(error.errors, reading.origins, page.questionnaires)
        return _form(token, page, request.form, errors, 422)
    return _page("thanks.html", 200, clinic_name=page.clinic_name)


@blp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> Response:
    return _problem("too_large")


def unavailable(_error: Exception) -> Response:
    """The store or broker is away: a page saying so (503), not the JSON error of the APIs."""
    response = _problem("unavailable")
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


for _kind in UNAVAILABLE_ERRORS:
    blp.register_error_handler(_kind, unavailable)
