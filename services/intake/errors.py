"""Errors of intake's own (the rest are `shared.errors`)."""

from __future__ import annotations

from shared.errors import UseCaseError


class Refused(Exception):
    """A partner message refused: already recorded and answered to the partner (if known).

    The consumer dead-letters the message with `reason` (contact values hidden).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignInUnavailable(UseCaseError):
    """Sign-in cannot issue tokens: no signing key is configured (`AUTH_SIGNING_PEM`)."""

    status = 503
