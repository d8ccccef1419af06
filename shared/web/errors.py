"""One JSON error shape for every HTTP error: `{code, status, message, errors?}`.

A store or broker that does not answer is not the client's fault and not a bug: every outage
error (`shared.outages`: pymongo's `ConnectionFailure` family, a write-concern timeout, the
AMQP connection errors) answers 503 with `Retry-After`, in the same shape, never 500.
"""

from __future__ import annotations

import logging

from flask_smorest import Api
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from shared.outages import OUTAGE_ERRORS, STORE_OUTAGE_ERRORS

log = logging.getLogger("http")

UNAVAILABLE_ERRORS = OUTAGE_ERRORS
"""Errors that mean "a dependency is away for now": answered 503, never 500."""
RETRY_AFTER_S = 5


def unavailable_message(error: Exception) -> str:
    """Which dependency is away, in words (never the driver's message: it may name hosts)."""
    store = isinstance(error, STORE_OUTAGE_ERRORS)
    which = "the database" if store else "the message broker"
    return f"{which} is not answering; nothing was changed by a refused request: retry later"


class ClinicApi(Api):
    """flask-smorest's Api, with a `message` on every error (its description when none was given)."""

    def _register_error_handlers(self) -> None:
        super()._register_error_handlers()
        for kind in UNAVAILABLE_ERRORS:
            self._app.register_error_handler(kind, self.handle_unavailable)

    def handle_http_exception(self, error: HTTPException):
        payload, code, headers = super().handle_http_exception(error)
        payload.setdefault("message", error.description or error.name)
        data = getattr(error, "data", None)
        if isinstance(data, dict) and "current" in data:  # a stale version: who changed it, when
            payload["current"] = data["current"]
        if code >= 500 and code != 503:
            original = getattr(error, "original_exception", None)
            log.error("unhandled error", exc_info=original or error)
            payload["message"] = "internal error; quote the X-Request-ID header when reporting it"
        return payload, code, headers

    def handle_unavailable(self, error: Exception):
        log.warning(
            "dependency unavailable; answered 503",
            extra={"error": f"{type(error).__name__}: {str(error)[:200]}"},
        )
        unavailable = ServiceUnavailable(unavailable_message(error))
        payload, code, headers = self.handle_http_exception(unavailable)
        return payload, code, {**headers, "Retry-After": str(RETRY_AFTER_S)}
