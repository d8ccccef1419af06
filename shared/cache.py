"""A small time-to-live cache: one value per key, loaded on a miss and kept for a while.

The one cache of the project (tenant settings, template overrides, partners, API-key principals,
check contexts): what a process may read slightly stale (at most `ttl_s` old) to save a
MongoDB round trip per message or request. A missing value (the loader returned None) is kept
for `miss_ttl_s`, usually shorter, so that something created a moment ago is found soon.
Thread-safe (gunicorn threads, worker components); bounded by `max_items` (cleared when full).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable


class TtlCache[K: Hashable, V]:
    def __init__(
        self,
        load: Callable[[K], V],
        ttl_s: float,
        *,
        miss_ttl_s: float | None = None,
        max_items: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load, self.ttl_s = load, ttl_s
        self.miss_ttl_s = ttl_s if miss_ttl_s is None else miss_ttl_s
        self._max_items = max_items
        self.clock = clock  # the time source (a test moves it on rather than wait out a ttl)
        self._items: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V:
        """The cached value, or a freshly loaded one (a loader's exception is not cached)."""
        with self._lock:
            hit = self._items.get(key)
        if hit is not None:
            stored_at, value = hit
            ttl = self.ttl_s if value is not None else self.miss_ttl_s
            if self.clock() - stored_at < ttl:
                return value
        value = self._load(key)
        self.put(key, value)
        return value

    def put(self, key: K, value: V) -> None:
        """Keep a value this process was given anyway (it counts as loaded now)."""
        with self._lock:
            if len(self._items) >= self._max_items:
                self._items.clear()
            self._items[key] = (self.clock(), value)

    def forget(self, key: K | None = None) -> None:
        """Drop one key (or everything), e.g. after this process changed the value itself."""
        with self._lock:
            if key is None:
                self._items.clear()
            else:
                self._items.pop(key, None)
