"""The time a composition root hands its use cases: `Clock`, and `utc_now`, the real one.

Each service's `bootstrap.Deps` carries a clock (`utc_now` unless a test passes its own), so
what a use case decides about time can be tested at any instant.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
