"""The composition root of intake: what the app, the worker and the ops CLI share, built once.

`Deps` carries the settings, the database (opened lazily, in the process that uses it: never
before a fork), the clock, the caches and the key that signs staff access tokens (None where
`AUTH_SIGNING_PEM` is not set: sign-in then answers 503). Every use case takes it as its first parameter; the
app keeps it in `app.extensions["deps"]` (views reach it with `shared.web.views.deps()`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pymongo.database import Database

from services.intake.repository.partners import Partners
from shared.cache import TtlCache
from shared.config import ConfigError, Settings
from shared.token_keys import KeyFileError, SigningKey, load_signing_key

PARTNER_CACHE_TTL_S = 10.0
"""How long the partner gate may use a partner read earlier (allowed clinics, existence)."""


class Store(Protocol):
    """Where the database comes from: `shared.mongo.Mongo` (a client per process)."""

    @property
    def db(self) -> Database: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    settings: Settings
    store: Store
    partners: TtlCache[str, dict[str, Any] | None]
    """Partners by id, for the gate of partner messages (a few seconds stale at most)."""
    signing_key: SigningKey | None = None
    clock: Callable[[], datetime] = utc_now

    @property
    def db(self) -> Database:
        return self.store.db


def bootstrap(
    settings: Settings, store: Store, *, partner_cache_ttl_s: float = PARTNER_CACHE_TTL_S
) -> Deps:
    partners = TtlCache(lambda partner_id: Partners(store.db).get(partner_id), partner_cache_ttl_s)
    return Deps(
        settings=settings, store=store, partners=partners, signing_key=signing_key(settings)
    )


def signing_key(settings: Settings) -> SigningKey | None:
    path = settings.own.auth_signing_pem
    if not path:
        return None
    try:
        return load_signing_key(path)
    except KeyFileError as error:
        raise ConfigError(f"invalid configuration: AUTH_SIGNING_PEM: {error}") from None
