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

from services.intake.domain.intake_link import InvalidLink, LinkTarget
from services.intake.usecases import intake_links
from services.intake.usecases.intake_links import OpenedLink
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
from shared.errors import Conflict, Invalid, NotFound
from shared.web.errors import RETRY_AFTER_S, UNAVAILABLE_ERRORS
from shared.web.views import deps, settings

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
    """What the page needs: the opened link (no name, contact or diagnosis is shown on it)."""

    opened: OpenedLink
    questionnaires: list[Questionnaire]

    @property
    def target(self) -> LinkTarget:
        return self.opened.target


def _page(template: str, status: int, **context: Any) -> Response:
    response = make_response(render_template(f"intake_form/{template}", **context), status)
    response.headers.update(SECURITY_HEADERS)
    return response


def _problem(kind: str) -> Response:
    problem = PROBLEMS[kind]
    return _page("problem.html", problem.status, problem=problem)


def _open(token: str) -> FormPage | str:
    """The page the link opens, or the kind of problem it has (a key of `PROBLEMS`)."""
    try:
        opened = intake_links.open_link(deps(), token)
    except InvalidLink as error:
        return error.problem
    except NotFound:
        return "invalid"
    return FormPage(opened, QUESTIONNAIRES.for_diagnoses(opened.diagnosis_codes))


def _form(
    token: str, page: FormPage, values: Any, errors: Mapping[str, str], status: int
) -> Response:
    intake_links.record_form_shown(deps(), page.target, with_errors=bool(errors))
    return _page(
        "form.html",
        status,
        clinic_name=page.opened.clinic_name,
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
    consent = intake_links.consent_on_file(deps(), page.opened)
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
        intake_links.complete_by_link(deps(), page.target, loaded)
    except Conflict:
        return _problem(_current_problem(token))
    except NotFound:
        return _problem("invalid")
    except Invalid as error:
        errors = field_errors(error.errors, reading.origins, page.questionnaires)
        return _form(token, page, request.form, errors, 422)
    return _page("thanks.html", 200, clinic_name=page.opened.clinic_name)


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
