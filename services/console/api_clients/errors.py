"""The one error the console meets when an API says no: what kind of no, and its words.

Every API answers an error in one shape (`{code, status, message, errors}`, docs/api.md); the
console needs to know only what to do with it: show field errors next to their fields (invalid),
show the API's message (conflict, refused), answer 404 (not found), sign the person in again
(signed_out), or show the 503 page (unavailable: nothing was changed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Kind = Literal[
    "invalid", "conflict", "not_found", "refused", "signed_out", "limited", "unavailable"
]
KIND_OF_STATUS: dict[int, Kind] = {
    400: "invalid",
    401: "signed_out",
    403: "refused",
    404: "not_found",
    409: "conflict",
    413: "invalid",
    422: "invalid",
    429: "limited",
    503: "unavailable",
}


class ApiError(Exception):
    def __init__(
        self,
        kind: Kind,
        message: str,
        *,
        status: int | None = None,
        fields: Mapping[str, list[str]] | None = None,
        retry_after_s: int | None = None,
        current: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status
        self.fields: dict[str, list[str]] = dict(fields or {})
        """Field path (`diagnoses.0.code`) -> its problems, from `errors.json`."""
        self.retry_after_s = retry_after_s
        self.current: dict[str, Any] | None = dict(current) if current else None
        """A stale version's 409: who made the current one and when (`version`, `changed_by`,
        `changed_by_name`, `changed_at`)."""

    @classmethod
    def from_answer(cls, status: int, body: Any, retry_after: str | None = None) -> ApiError:
        body = body if isinstance(body, Mapping) else {}
        kind = KIND_OF_STATUS.get(status, "unavailable")
        message = str(body.get("message") or f"the service answered {status}")
        errors = body.get("errors") if isinstance(body.get("errors"), Mapping) else {}
        found = {**flat(errors.get("json") or {}), **flat(errors.get("query") or {})}
        wait = int(retry_after) if retry_after and retry_after.isdigit() else None
        current = body.get("current") if isinstance(body.get("current"), Mapping) else None
        return cls(kind, message, status=status, fields=found, retry_after_s=wait, current=current)


def flat(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested field errors (`{"patient": {"link_to": [...]}}`) as paths (`patient.link_to`)."""
    if isinstance(errors, Mapping):
        found: dict[str, list[str]] = {}
        for key, value in errors.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            found.update(flat(value, path))
        return found
    if isinstance(errors, list | tuple):
        if all(isinstance(item, str) for item in errors):
            return {prefix or "_schema": [str(item) for item in errors]}
        found = {}
        for item in errors:
            found.update(flat(item, prefix))
        return found
    return {prefix or "_schema": [str(errors)]}
