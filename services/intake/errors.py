"""What the use cases raise; the HTTP layer maps them to 404, 409 and 422, the AMQP inbox to a rejection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class NotFound(LookupError):
    """The object does not exist in the caller's tenant (or at a location the caller may see)."""


class Conflict(RuntimeError):
    """The request clashes with the object's state (already signed, cancelled, ...)."""


class Invalid(ValueError):
    """Input that breaks a rule; `errors` maps a field path to its problems."""

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors = {path: list(messages) for path, messages in errors.items()}
        super().__init__("; ".join(f"{p}: {', '.join(m)}" for p, m in self.errors.items()))

    @classmethod
    def one(cls, path: str, message: str) -> Invalid:
        return cls({path: [message]})

    def reasons(self) -> list[dict[str, str]]:
        """The problems as `[{field, message}]`, the shape of `referral.rejected`."""
        return [{"field": p, "message": m} for p, messages in self.errors.items() for m in messages]
