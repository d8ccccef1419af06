"""Lockout: after 10 failed sign-ins within 15 minutes, an account refuses sign-in for 15 minutes.

Counted per clinic and email, whether or not such an account exists, so that an unknown email
and a wrong password take the same path (and the same time) and end the same way. A failure is
pushed atomically (the last `MAX_FAILURES` are kept); `should_lock` then reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def should_lock(failures: Sequence[datetime], locked_until: datetime | None, now: datetime) -> bool:
    """Whether the failures (the latest included) lock the account now."""
    recent = [at for at in failures if now - at < WINDOW]
    return not is_locked(locked_until, now) and len(recent) >= MAX_FAILURES
