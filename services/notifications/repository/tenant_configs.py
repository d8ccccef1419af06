"""Tenant notification settings (`tenant_configs`, `_id` = tenant) and a short-lived cache.

The worker reads a tenant's settings for every event and every send; the cache keeps that to
two reads (config and locations) per tenant every `ttl_s` seconds. A config change reaches the
worker within `ttl_s`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database

from shared.tenancy import TenantScoped

from .tenant_settings import TenantSettings, tenant_settings

CACHE_TTL_S = 2.0


class TenantConfigs:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, tenant_id: str) -> dict[str, Any] | None:
        return TenantScoped(self.db.tenant_configs, tenant_id).find_one({"_id": tenant_id})

    def put(self, tenant_id: str, document: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        """Replace the tenant's settings (secrets not given are kept)."""
        before = self.get(tenant_id) or {}
        hooks = dict(document.get("partner_webhooks") or {})
        for partner, hook in hooks.items():
            kept = (before.get("partner_webhooks") or {}).get(partner, {}).get("secret")
            if not hook.get("secret") and kept:
                hooks[partner] = {**hook, "secret": kept}
        replacement = {**document, "partner_webhooks": hooks, "tenant_id": tenant_id}
        stored = self.db.tenant_configs.find_one_and_replace(
            {"_id": tenant_id},
            {**replacement, "updated_at": now},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return dict(stored or {})

    def location_timezones(self, tenant_id: str) -> dict[str, str]:
        rows = TenantScoped(self.db.locations, tenant_id).find(
            {}, {"location_id": 1, "timezone": 1}
        )
        return {row["location_id"]: row["timezone"] for row in rows if row.get("timezone")}

    def settings(self, tenant_id: str) -> TenantSettings:
        return tenant_settings(tenant_id, self.get(tenant_id), self.location_timezones(tenant_id))


class CachedTenantSettings:
    """`TenantConfigs.settings` remembered for `ttl_s` seconds per tenant (thread-safe)."""

    def __init__(self, configs: TenantConfigs, ttl_s: float = CACHE_TTL_S) -> None:
        self.configs, self.ttl_s = configs, ttl_s
        self._cache: dict[str, tuple[float, TenantSettings]] = {}
        self._lock = threading.Lock()

    def get(self, tenant_id: str) -> TenantSettings:
        with self._lock:
            cached = self._cache.get(tenant_id)
        if cached and time.monotonic() - cached[0] < self.ttl_s:
            return cached[1]
        settings = self.configs.settings(tenant_id)
        with self._lock:
            self._cache[tenant_id] = (time.monotonic(), settings)
        return settings
