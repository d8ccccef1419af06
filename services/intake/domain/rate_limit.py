"""The rate limit per client address on sign-in and account links: a fixed window per minute.

Counted in MongoDB (one counter document per address and window), so the limit holds across
gunicorn workers and restarts.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

WINDOW_S = 60


def window_start(now: datetime) -> datetime:
    return datetime.fromtimestamp(now.timestamp() // WINDOW_S * WINDOW_S, tz=now.tzinfo)


def window_end(now: datetime) -> datetime:
    return window_start(now) + timedelta(seconds=WINDOW_S)


def retry_after_s(now: datetime) -> int:
    """Whole seconds until the window ends (at least 1)."""
    return max(1, math.ceil((window_end(now) - now).total_seconds()))
