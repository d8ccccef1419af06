"""What every view of every service builds on: the one error table, auditing, and the app's parts.

    @blp.route("/<string:plan_id>/approve")
    class PlanApproval(View):
        @requires(*CLINICIANS)
        @blp.arguments(VersionSchema)
        @blp.response(200, PlanSchema)
        def post(self, args, plan_id):
            with audited("plan.approve", "plan", plan_id):
                return plans.approve(deps(), principal(), plan_id, args["version"])

`View` answers the use cases' errors (`shared.errors`) in the one error shape: Unauthorized 401,
NotFound 404, Forbidden 403, Conflict 409, Invalid 422 with `errors.json.<field>`, RateLimited
429 with `Retry-After`. `audited(...)` writes the
audit record of the call (who, tenant, action, object, outcome; never patient data) whether it
succeeded or was refused. `deps()` is the service's composition root (`bootstrap.py`), built
once per process; `settings()` the process's settings; `principal()` who is calling.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import abort
from pymongo.database import Database

from shared.config import Settings
from shared.errors import RateLimited, StaleVersion, UseCaseError
from shared.web.auditing import audit_request
from shared.web.auth import Principal, current_principal

OUTCOMES = {403: "forbidden", 404: "not_found"}
"""The audit outcome of a refused call (any other status: `refused`)."""


def answers_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """The use cases' errors as HTTP errors of the one shape."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except UseCaseError as error:
            extra: dict[str, Any] = {"errors": {"json": error.errors}} if error.errors else {}
            if isinstance(error, RateLimited):
                extra["headers"] = {"Retry-After": str(error.retry_after_s)}
            if isinstance(error, StaleVersion):
                extra["current"] = error.current
            abort(error.status, message=error.message, **extra)

    return wrapper


class View(MethodView):
    decorators = [answers_errors]


@dataclass
class AuditedCall:
    """The object a call is about; a create names it once the use case has made it."""

    object_id: str | None


@contextmanager
def audited(action: str, object_type: str, object_id: str | None = None) -> Iterator[AuditedCall]:
    """Audit the call inside: `ok`, or why it was refused (the error then goes on up)."""
    call = AuditedCall(object_id)
    try:
        yield call
    except UseCaseError as error:
        outcome = OUTCOMES.get(error.status, "refused")
        audit_request(action, object_type, call.object_id, outcome=outcome, detail=error.message)
        raise
    audit_request(action, object_type, call.object_id)


def deps() -> Any:
    """The service's composition root (its `bootstrap.Deps`), built once per process."""
    return current_app.extensions["deps"]


def db() -> Database:
    return current_app.extensions["mongo"].db


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def principal() -> Principal:
    return current_principal()
