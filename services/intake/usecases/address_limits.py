"""The rate limit per client address on sign-in and account links (`SIGN_IN_RATE_LIMIT` a minute)."""

from __future__ import annotations

from services.intake.bootstrap import Deps
from services.intake.domain.rate_limit import retry_after_s
from services.intake.repository.sign_in_guards import RateLimits
from shared.errors import RateLimited


def count_request(deps: Deps, address: str) -> None:
    """Count one request of `address`; `RateLimited` (429) once it is over the limit."""
    now = deps.clock()
    if RateLimits(deps.db).hit(address, now) > deps.settings.own.sign_in_rate_limit:
        raise RateLimited(
            "too many sign-in requests from this address: wait a minute", retry_after_s(now)
        )
