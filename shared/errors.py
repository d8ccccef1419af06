"""What use cases raise when a request cannot be done; one table maps each to its HTTP status.

Use cases (in every service) raise these, never HTTP errors: the web layer
(`shared.web.views`) answers each with its status in the one error shape, and a consumer turns
them into a rejection with the reason. `Invalid.errors` maps a field path (of the request body)
to its problems, the same shape marshmallow gives; the HTTP answer puts them under
`errors.json`, as flask-smorest does for a body that fails its schema, so a client reads every
422 the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class UseCaseError(Exception):
    """A request that cannot be done as asked; `status` is its HTTP status."""

    status = 400

    def __init__(self, message: str, errors: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = {path: list(problems) for path, problems in (errors or {}).items()}


class Unauthorized(UseCaseError):
    """Who is calling could not be established (a wrong password, an unusable token or link)."""

    status = 401


class RateLimited(UseCaseError):
    """Too many requests from this caller for now; `retry_after_s` says when to try again."""

    status = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class NotFound(UseCaseError):
    """No such object in the caller's tenant, or at a location the caller may see (never 403)."""

    status = 404


class Forbidden(UseCaseError):
    """The caller's role may not do this to an object it may see."""

    status = 403


class Conflict(UseCaseError):
    """The request clashes with the object's current state (cancelled, already signed, booked)."""

    status = 409


class StaleVersion(Conflict):
    """A write named a version the object has moved on from; `current` says which version it is
    at, and who made it when (`{version, changed_by, changed_by_name, changed_at}`), so the
    caller can show "changed by X at T" beside the current version."""

    def __init__(self, message: str, current: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.current = dict(current)


class ConcurrentChange(Conflict):
    """The object kept changing under the request (see `shared.retry`); trying again may work."""


class Invalid(UseCaseError):
    """The input is well formed but breaks a rule; `errors` names the fields."""

    status = 422

    def __init__(
        self, errors: Mapping[str, Sequence[str]], message: str = "the input breaks a rule"
    ) -> None:
        super().__init__(message, errors)

    @classmethod
    def one(cls, path: str, problem: str) -> Invalid:
        return cls({path: [problem]})

    def reasons(self) -> list[dict[str, str]]:
        """The problems as `[{field, message}]`, the shape of a rejection's reasons."""
        return [{"field": p, "message": m} for p, problems in self.errors.items() for m in problems]
