"""Forms: what was typed goes back into the form, and each of the API's field errors is shown
next to its field (`errors[field]`); what belongs to no field of the form under `_form`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from flask import request

from services.console.api_clients import ApiError

FORM = "_form"
SECRET_FIELDS = frozenset({"password", "password_again", "code", "recovery_code", "csrf_token"})


def typed() -> dict[str, str]:
    """What the person typed, to fill the form again (never a password or a code)."""
    return {k: v for k, v in request.form.items() if k not in SECRET_FIELDS}


def field_errors(
    error: ApiError,
    fields: Iterable[str],
    place: Callable[[Mapping[str, list[str]]], dict[str, list[str]]] | None = None,
) -> dict[str, list[str]]:
    """The API's refusal as errors by form field: its field errors where the form has the field,
    the rest (and its message, when no field is named) under `_form`."""
    known = set(fields)
    placed = place(error.fields) if place else dict(error.fields)
    found: dict[str, list[str]] = {}
    for name, problems in placed.items():
        found.setdefault(name if name in known else FORM, []).extend(problems)
    if not found:
        found[FORM] = [error.message]
    return found
