"""The API-key cache of this process (shared.web.auth) seen as if its time-to-live had passed:
what a revocation must have done by then is asserted at once, not waited for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from shared.web import auth


@contextmanager
def key_cache_aged(by_s: float = auth.CACHE_TTL_S) -> Iterator[None]:
    cache = auth._principals
    real = cache.clock
    cache.clock = lambda: real() + by_s
    try:
        yield
    finally:
        cache.clock = real
