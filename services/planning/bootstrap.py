"""The composition root of planning: what the API and the worker share, built once per process.

`build(settings, mongo)` makes the `Deps` every use case takes: the database, the clock, the
condition tables, and two caches of what a referral check and a local date need (the zone of a
plan's location, the clinic's planning settings). The API reads both fresh on every request
(`cache_ttl_s=0`: an admin's change applies at once); the worker keeps them for a minute (one
round trip per event saved; a location's change clears the zones at once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo

from pymongo.database import Database

from services.planning.domain.clinic_settings import ClinicSettings
from services.planning.domain.condition_tables import DEFAULT_TABLES, ConditionTables
from services.planning.domain.scheduling import zone_or_utc
from services.planning.repository.clinic_settings import load_clinic_settings
from shared import replicas
from shared.cache import TtlCache
from shared.clock import Clock, utc_now
from shared.config import Settings
from shared.mongo import Mongo

API_CACHE_TTL_S = 0.0
WORKER_CACHE_TTL_S = 60.0


@dataclass(frozen=True)
class Deps:
    mongo: Mongo
    settings: Settings
    zones: TtlCache[tuple[str, str], tzinfo]
    """(tenant_id, location_id) -> the location's zone (UTC when unknown)."""
    clinic_settings: TtlCache[str, ClinicSettings]
    """tenant_id -> the clinic's planning settings (the defaults when it has saved none)."""
    clock: Clock = utc_now
    tables: ConditionTables = field(default=DEFAULT_TABLES)

    @property
    def db(self) -> Database:
        """The process's database (its client is opened on first use, after any fork)."""
        return self.mongo.db

    def zone_of(self, tenant_id: str, location_id: str | None) -> tzinfo:
        return self.zones.get((tenant_id, location_id or ""))


def build(
    settings: Settings,
    mongo: Mongo | None = None,
    *,
    cache_ttl_s: float = API_CACHE_TTL_S,
    clock: Clock = utc_now,
    tables: ConditionTables = DEFAULT_TABLES,
) -> Deps:
    mongo = mongo or Mongo(settings)

    def load_zone(key: tuple[str, str]) -> tzinfo:
        location = replicas.find_location(mongo.db, *key)
        return zone_or_utc(location.timezone if location else None)

    return Deps(
        mongo=mongo,
        settings=settings,
        zones=TtlCache(load_zone, cache_ttl_s),
        clinic_settings=TtlCache(lambda t: load_clinic_settings(mongo.db, t), cache_ttl_s),
        clock=clock,
        tables=tables,
    )
