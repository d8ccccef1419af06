"""Wait on a condition with a deadline (never a bare sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from testkit.errors import StepFailed

T = TypeVar("T")


def wait_until[T](
    condition: Callable[[], T],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "condition",
) -> T:
    """Poll `condition` until it returns a truthy value; `StepFailed` naming `message` at the
    deadline. An exception from `condition` counts as "not yet" (the system may still be
    settling); the last one is named in the failure."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = condition()
            if result:
                return result
        except Exception as error:  # a condition may fail while the system is still settling
            last_error = error
        time.sleep(interval)
    raise StepFailed(
        f"timed out after {timeout} s waiting for {message}"
        + (f" (last error: {last_error!r})" if last_error else "")
    )
