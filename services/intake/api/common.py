"""What every intake view shares: the base view (use-case errors -> HTTP), paging, audit of access."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypedDict

from flask import current_app
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields, validate
from pymongo.database import Database

from services.intake.errors import Conflict, Invalid, NotFound
from shared.config import Settings
from shared.web.auditing import audit_request

STAFF = ("admin", "front_desk", "therapist")


def answers_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """The use cases' errors as HTTP errors: 404 (never 403 for another tenant's object), 409, 422."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except NotFound as error:
            abort(404, message=f"not found: {error}")
        except Conflict as error:
            abort(409, message=str(error))
        except Invalid as error:
            abort(422, message="the input breaks a rule", errors={"json": error.errors})

    return wrapper


class View(MethodView):
    decorators = [answers_errors]


def db() -> Database:
    return current_app.extensions["mongo"].db


def settings() -> Settings:
    return current_app.config["SETTINGS"]


class PageSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1),
        metadata={"description": "Capped at the server's maximum page size (MAX_PAGE_SIZE)"},
    )


class Page(TypedDict):
    page: int
    page_size: int


def paging(args: dict[str, Any]) -> Page:
    return {"page": args["page"], "page_size": min(args["page_size"], settings().max_page_size)}


def record_access(
    action: str,
    object_type: str,
    object_id: str | None,
    detail: str | None = None,
    outcome: str = "ok",
) -> None:
    """Audit what the current principal did with patient data (reads, and refused submissions)."""
    audit_request(action, object_type, object_id, outcome=outcome, detail=detail)
