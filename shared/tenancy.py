"""Tenant-scoped access to a collection: every filter carries the tenant, every document too.

Repositories build on `TenantScoped(collection, tenant_id)`; a call without a tenant fails, a
filter can never reach another tenant's documents, and writes cannot move a document to another
tenant. Indexes on tenant data lead with `tenant_id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.collection import Collection
from pymongo.cursor import Cursor
from pymongo.results import InsertOneResult, UpdateResult

TENANT = "tenant_id"


class MissingTenant(TypeError):
    """A repository was used without a tenant."""


class TenantScoped:
    def __init__(self, collection: Collection, tenant_id: str | None) -> None:
        if not isinstance(tenant_id, str) or not tenant_id:
            raise MissingTenant(f"a tenant is required to use {collection.name!r}")
        self.collection = collection
        self.tenant_id = tenant_id

    def _scope(self, filter: Mapping[str, Any] | None) -> dict[str, Any]:
        return {**(filter or {}), TENANT: self.tenant_id}

    def _guard_update(self, update: Mapping[str, Any]) -> Mapping[str, Any]:
        for operator, fields in update.items():
            if isinstance(fields, Mapping) and TENANT in fields:
                raise ValueError(f"{operator} may not change {TENANT}")
        return update

    def find_one(
        self, filter: Mapping[str, Any] | None = None, *args: Any, **kwargs: Any
    ) -> dict[str, Any] | None:
        return self.collection.find_one(self._scope(filter), *args, **kwargs)

    def find(self, filter: Mapping[str, Any] | None = None, *args: Any, **kwargs: Any) -> Cursor:
        return self.collection.find(self._scope(filter), *args, **kwargs)

    def count_documents(self, filter: Mapping[str, Any] | None = None, **kwargs: Any) -> int:
        return self.collection.count_documents(self._scope(filter), **kwargs)

    def insert_one(self, document: Mapping[str, Any]) -> InsertOneResult:
        if document.get(TENANT, self.tenant_id) != self.tenant_id:
            raise ValueError("document belongs to another tenant")
        return self.collection.insert_one({**document, TENANT: self.tenant_id})

    def update_one(
        self, filter: Mapping[str, Any], update: Mapping[str, Any], **kwargs: Any
    ) -> UpdateResult:
        return self.collection.update_one(self._scope(filter), self._guard_update(update), **kwargs)

    def find_one_and_update(
        self, filter: Mapping[str, Any], update: Mapping[str, Any], **kwargs: Any
    ) -> dict[str, Any] | None:
        return self.collection.find_one_and_update(
            self._scope(filter), self._guard_update(update), **kwargs
        )
