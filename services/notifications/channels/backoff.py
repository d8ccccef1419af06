"""When to try a failed delivery again; the worker stores the time in MongoDB (no sleeping).

The delays come from tenacity's `wait_exponential_jitter`: ``first * 2**(attempt-1)`` plus up
to `jitter_s` of random jitter, capped at `max_delay_s`. A provider's ``Retry-After`` is a
floor: we never come back sooner than asked (but at most `max_retry_after_s` later).
With the defaults: about 30 s, 1 min, 2 min, 4 min, 8 min, 16 min, 32 min, then give up
after attempt 8 (roughly an hour of trying) and tell staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from tenacity import wait_exponential_jitter


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    first_delay_s: float = 30.0
    max_delay_s: float = 3600.0
    jitter_s: float = 10.0
    max_retry_after_s: float = 6 * 3600.0

    def gives_up_after(self, attempt: int) -> bool:
        """True when `attempt` (1-based, the one that just failed) was the last allowed."""
        return attempt >= self.max_attempts

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed `attempt` (1-based) before the next one."""
        if attempt < 1:
            raise ValueError("attempts are numbered from 1")
        wait = wait_exponential_jitter(
            multiplier=self.first_delay_s, max=self.max_delay_s, jitter=self.jitter_s
        )
        # tenacity's wait strategies only read `attempt_number` from the retry state.
        delay = wait(SimpleNamespace(attempt_number=attempt))  # type: ignore[arg-type]
        if retry_after is not None and retry_after > 0:
            delay = max(delay, min(retry_after, self.max_retry_after_s))
        return delay


DEFAULT_POLICY = RetryPolicy()
max_attempts = DEFAULT_POLICY.max_attempts


def next_attempt_delay(
    attempt: int, retry_after: float | None = None, policy: RetryPolicy = DEFAULT_POLICY
) -> float:
    """Seconds until the attempt after failed `attempt` (1-based); see `RetryPolicy.delay`."""
    return policy.delay(attempt, retry_after)
