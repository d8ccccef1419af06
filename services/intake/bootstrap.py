"""The composition root of intake: what the app, the worker and the ops CLI share, built once.

`Deps` carries the settings, the database (opened lazily, in the process that uses it: never
before a fork), the clock and the caches. Every use case takes it as its first parameter; the
app keeps it in `app.extensions["deps"]` (views reach it with `shared.web.views.deps()`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from services.intake.repository.partners import Partners
from shared.cache import TtlCache
from shared.clock import Clock, utc_now
from shared.config import Settings
from shared.mongo import DatabaseSource

PARTNER_CACHE_TTL_S = 10.0
"""How long the partner gate may use a partner read earlier (allowed clinics, existence)."""


@dataclass(frozen=True)
class Deps:
    settings: Settings
    store: DatabaseSource
    partners: TtlCache[str, dict[str, Any] | None]
    """Partners by id, for the gate of partner messages (a few seconds stale at most)."""
    clock: Clock = utc_now

    @property
    def db(self) -> Database:
        return self.store.db


def bootstrap(
    settings: Settings, store: DatabaseSource, *, partner_cache_ttl_s: float = PARTNER_CACHE_TTL_S
) -> Deps:
    partners = TtlCache(lambda partner_id: Partners(store.db).get(partner_id), partner_cache_ttl_s)
    return Deps(settings=settings, store=store, partners=partners)
