"""The one error the kit raises when the system does not do what a step expects."""

from __future__ import annotations


class StepFailed(AssertionError):
    """A step against the system did not happen as it should; the message says what and where.

    An AssertionError, so that a test fails on it as on any assertion; the demo catches it and
    prints the message.
    """
