"""What every planning endpoint shares: the database, the principal, and audited calls.

``audited(action, object_type, object_id)`` wraps a use case: it writes the audit record (who,
tenant, action, object, outcome; never patient data) and turns the use case's errors into HTTP
errors of the one error shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from flask_smorest import abort
from pymongo.database import Database

from services.planning.errors import PlanningError
from shared.config import Settings
from shared.web.auditing import audit_request

OUTCOMES = {403: "forbidden", 404: "not_found", 409: "refused", 422: "refused"}


def db() -> Database:
    return current_app.extensions["mongo"].db


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def page_size(requested: int) -> int:
    return min(requested, settings().max_page_size)


@contextmanager
def audited(action: str, object_type: str, object_id: str | None = None) -> Iterator[None]:
    def log(outcome: str, detail: str | None = None) -> None:
        audit_request(action, object_type, object_id, outcome=outcome, detail=detail)

    try:
        yield
    except PlanningError as error:
        log(OUTCOMES.get(error.status, "refused"), detail=error.message)
        kwargs = {"errors": error.errors} if error.errors else {}
        abort(error.status, message=error.message, **kwargs)
    log("ok")
