"""Error pages: never a stack trace. Each says what happened in words and names the request id
(which the logs carry); a 503 page when an API is away (nothing was changed), the sign-in page
when the person's session has ended, a 403 page for a refused or forged request."""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template
from werkzeug.exceptions import HTTPException

from services.console.api_clients import ApiError
from services.console.web.signed_in import SESSION_ENDED, end_session, to_sign_in
from shared import context

log = logging.getLogger("console")

TITLES = {
    400: "That request could not be read",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "That changed meanwhile",
    413: "Too much at once",
    422: "That could not be saved",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "A service is not answering",
}
MESSAGES = {
    400: "The console could not read what was sent.",
    403: "Your role may not do this.",
    404: "There is nothing here, or it is not one you may see.",
    405: "That page cannot be used this way.",
    413: "What was sent is too large.",
    429: "Wait a minute, then try again.",
    500: "This is a fault of the console, not of anything you did. Nothing more was changed.",
    503: "The clinic's services are not answering right now; nothing was changed. "
    "Try again in a moment.",
}
FORGED = (
    "This form was not sent from the console, or it has expired (for example after you signed "
    "in again). Nothing was changed: go back, reload the page and try again."
)
STATUS_OF_KIND = {
    "invalid": 422,
    "conflict": 409,
    "not_found": 404,
    "refused": 403,
    "limited": 429,
    "unavailable": 503,
}


def error_page(status: int, message: str | None = None, retry_after_s: int | None = None):
    body = render_template(
        "error.html",
        status=status,
        title=TITLES.get(status, "Something went wrong"),
        message=message or MESSAGES.get(status, MESSAGES[500]),
        request_id=context.request_id.get() or "",
    )
    response = Response(body, status=status, mimetype="text/html")
    if retry_after_s is not None:
        response.headers["Retry-After"] = str(retry_after_s)
    return response


def init_error_pages(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        if error.kind == "signed_out":
            end_session()
            return to_sign_in(SESSION_ENDED)
        status = STATUS_OF_KIND.get(error.kind, 500)
        if status == 503:
            log.warning("an API is unavailable: %s", error.message)
            return error_page(503, retry_after_s=error.retry_after_s or 5)
        own_words = error.message if status in (403, 409, 422) else None
        return error_page(status, own_words, error.retry_after_s)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        if status == 403 and error.description == "forged":
            return error_page(403, FORGED)
        return error_page(status)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unexpected error", exc_info=error)
        return error_page(500)
