"""Retry on a version conflict: load, decide, write guarded by the version; again if it moved.

Every use case that changes a stored object does it as one guarded write (`{"_id": ...,
"version": seen}`), so a concurrent change makes the write match nothing. The attempt returns
None then, and runs again on the fresh state, a few times at most:

    def attempt() -> dict | None:
        plan = plans.get(plan_id)
        ...decide...
        return updated if plans.update_guarded(plan, update) else None

    return retry_on_conflict(attempt, what=f"plan {plan_id}")
"""

from __future__ import annotations

from collections.abc import Callable

from shared.errors import ConcurrentChange

ATTEMPTS = 3


def retry_on_conflict[T](
    attempt: Callable[[], T | None], *, what: str = "the object", attempts: int = ATTEMPTS
) -> T:
    """`attempt()` until it returns something other than None; ConcurrentChange after `attempts`."""
    for _ in range(attempts):
        result = attempt()
        if result is not None:
            return result
    raise ConcurrentChange(f"{what} kept changing while this request ran; please try again")
