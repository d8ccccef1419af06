"""Per-tenant template overrides (`template_overrides`), and the cached view the renderer reads.

`_id` = "<tenant>#<language>#<file>", e.g. "clinic-1#es#patient_welcome.email.j2".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.collection import Collection

from shared.tenancy import TenantScoped

CACHE_TTL_S = 2.0
OverrideKey = tuple[str, str, str]  # (tenant, language, file)


class TemplateOverrides:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    def list(self, tenant_id: str) -> list[dict[str, Any]]:
        cursor = TenantScoped(self.collection, tenant_id).find({})
        return list(cursor.sort([("language", ASCENDING), ("file", ASCENDING)]))

    def get(self, tenant_id: str, language: str, file: str) -> dict[str, Any] | None:
        return TenantScoped(self.collection, tenant_id).find_one(
            {"_id": _id(tenant_id, language, file)}
        )

    def put(
        self, tenant_id: str, language: str, file: str, source: str, now: datetime
    ) -> dict[str, Any]:
        document = {
            "_id": _id(tenant_id, language, file),
            "tenant_id": tenant_id,
            "language": language,
            "file": file,
            "source": source,
            "updated_at": now,
        }
        self.collection.replace_one({"_id": document["_id"]}, document, upsert=True)
        return document

    def delete(self, tenant_id: str, language: str, file: str) -> bool:
        result = self.collection.delete_one(
            {"_id": _id(tenant_id, language, file), "tenant_id": tenant_id}
        )
        return result.deleted_count == 1

    def sources(self, tenant_id: str) -> dict[OverrideKey, str]:
        return {
            (tenant_id, row["language"], row["file"]): row["source"]
            for row in TenantScoped(self.collection, tenant_id).find({})
        }


class CachedOverrides(Mapping[OverrideKey, str]):
    """The overrides mapping `TemplateRenderer` looks up, loaded per tenant every `ttl_s`."""

    def __init__(self, store: TemplateOverrides, ttl_s: float = CACHE_TTL_S) -> None:
        self.store, self.ttl_s = store, ttl_s
        self._tenants: dict[str, tuple[float, dict[OverrideKey, str]]] = {}
        self._lock = threading.Lock()

    def _of(self, tenant_id: str) -> dict[OverrideKey, str]:
        with self._lock:
            cached = self._tenants.get(tenant_id)
        if cached and time.monotonic() - cached[0] < self.ttl_s:
            return cached[1]
        sources = self.store.sources(tenant_id) if tenant_id else {}
        with self._lock:
            self._tenants[tenant_id] = (time.monotonic(), sources)
        return sources

    def __getitem__(self, key: OverrideKey) -> str:
        return self._of(key[0])[key]

    def __iter__(self) -> Iterator[OverrideKey]:
        with self._lock:
            loaded = [dict(sources) for _, sources in self._tenants.values()]
        return iter([key for sources in loaded for key in sources])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _id(tenant_id: str, language: str, file: str) -> str:
    return f"{tenant_id}#{language}#{file}"
