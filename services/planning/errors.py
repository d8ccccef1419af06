"""Errors the use cases raise; the HTTP layer answers each with its status and message."""

from __future__ import annotations


class PlanningError(Exception):
    status = 400

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(PlanningError):
    """No such object for this tenant and principal (another tenant's object too: never 403)."""

    status = 404


class Forbidden(PlanningError):
    """The principal may not do this at this location of its own tenant."""

    status = 403


class Conflict(PlanningError):
    """The request clashes with the current state: a booking, a status, an authorization."""

    status = 409


class Invalid(PlanningError):
    """The request is well formed but breaks a rule; ``errors`` names the fields."""

    status = 422


class Busy(PlanningError):
    """The tenant's schedule is being changed by another request right now; retry."""

    status = 409
