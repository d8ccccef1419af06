"""Errors of intake's own (the rest are `shared.errors`)."""

from __future__ import annotations


class Refused(Exception):
    """A partner message refused: already recorded and answered to the partner (if known).

    The consumer dead-letters the message with `reason` (contact values hidden).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
