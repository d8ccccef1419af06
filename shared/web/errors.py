"""One JSON error shape for every HTTP error: `{code, status, message, errors?}`."""

from __future__ import annotations

import logging

from flask_smorest import Api
from werkzeug.exceptions import HTTPException

log = logging.getLogger("http")


class ClinicApi(Api):
    """flask-smorest's Api, with a `message` on every error (its description when none was given)."""

    def handle_http_exception(self, error: HTTPException):
        payload, code, headers = super().handle_http_exception(error)
        payload.setdefault("message", error.description or error.name)
        if code >= 500:
            original = getattr(error, "original_exception", None)
            log.error("unhandled error", exc_info=original or error)
            payload["message"] = "internal error; quote the X-Request-ID header when reporting it"
        return payload, code, headers
