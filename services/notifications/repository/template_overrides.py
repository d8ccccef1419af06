"""Per-tenant template overrides (`template_overrides`), and the lookup the renderer reads.

`_id` = "<tenant>#<language>#<file>", e.g. "clinic-1#es#patient_welcome.email.j2".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.collection import Collection

from shared.paging import Page, PageRequest
from shared.tenancy import TenantScoped

OverrideKey = tuple[str, str, str]  # (tenant, language, file)
BY_NAME = [("language", ASCENDING), ("file", ASCENDING)]


class TemplateOverrides:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    def page(self, tenant_id: str, request: PageRequest) -> Page[dict[str, Any]]:
        """By language and file (unique within a tenant)."""
        return TenantScoped(self.collection, tenant_id).find_page({}, request, sort=BY_NAME)

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
        scoped = TenantScoped(self.collection, tenant_id)
        scoped.replace_one({"_id": document["_id"]}, document, upsert=True)
        return document

    def delete(self, tenant_id: str, language: str, file: str) -> bool:
        scoped = TenantScoped(self.collection, tenant_id)
        return scoped.delete_one({"_id": _id(tenant_id, language, file)}).deleted_count == 1

    def sources(self, tenant_id: str) -> dict[OverrideKey, str]:
        return {
            (tenant_id, row["language"], row["file"]): row["source"]
            for row in TenantScoped(self.collection, tenant_id).find({})
        }


class TenantOverrides:
    """The overrides `TemplateRenderer` looks up (`get((tenant, language, file))`), each
    tenant's read whole through `sources_of` (in the worker, a `shared.cache.TtlCache` of
    `TemplateOverrides.sources`, so an edit reaches it within the cache's time to live)."""

    def __init__(self, sources_of: Callable[[str], Mapping[OverrideKey, str]]) -> None:
        self.sources_of = sources_of

    def get(self, key: OverrideKey) -> str | None:
        tenant_id = key[0]
        return self.sources_of(tenant_id).get(key) if tenant_id else None


def _id(tenant_id: str, language: str, file: str) -> str:
    return f"{tenant_id}#{language}#{file}"
