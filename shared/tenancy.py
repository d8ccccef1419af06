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
from pymongo.results import DeleteResult, InsertOneResult, UpdateResult

from shared.paging import Page, PageRequest

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

    def find_page(
        self,
        filter: Mapping[str, Any] | None,
        request: PageRequest,
        *,
        sort: list[tuple[str, int]],
        projection: Mapping[str, Any] | None = None,
    ) -> Page[dict[str, Any]]:
        """One page of matches in `sort` order (which must end on a unique field, e.g. `_id`),
        and the total (counted only when the page does not already tell it)."""
        return find_page(
            self.collection, self._scope(filter), request, sort=sort, projection=projection
        )

    def count_documents(self, filter: Mapping[str, Any] | None = None, **kwargs: Any) -> int:
        return self.collection.count_documents(self._scope(filter), **kwargs)

    def insert_one(self, document: Mapping[str, Any]) -> InsertOneResult:
        return self.collection.insert_one(self._own(document))

    def update_one(
        self, filter: Mapping[str, Any], update: Mapping[str, Any], **kwargs: Any
    ) -> UpdateResult:
        return self.collection.update_one(self._scope(filter), self._guard_update(update), **kwargs)

    def update_many(
        self, filter: Mapping[str, Any], update: Mapping[str, Any], **kwargs: Any
    ) -> UpdateResult:
        return self.collection.update_many(
            self._scope(filter), self._guard_update(update), **kwargs
        )

    def find_one_and_update(
        self, filter: Mapping[str, Any], update: Mapping[str, Any], **kwargs: Any
    ) -> dict[str, Any] | None:
        return self.collection.find_one_and_update(
            self._scope(filter), self._guard_update(update), **kwargs
        )

    def _own(self, document: Mapping[str, Any]) -> dict[str, Any]:
        if document.get(TENANT, self.tenant_id) != self.tenant_id:
            raise ValueError("document belongs to another tenant")
        return {**document, TENANT: self.tenant_id}

    def replace_one(
        self, filter: Mapping[str, Any], replacement: Mapping[str, Any], **kwargs: Any
    ) -> UpdateResult:
        return self.collection.replace_one(self._scope(filter), self._own(replacement), **kwargs)

    def find_one_and_replace(
        self, filter: Mapping[str, Any], replacement: Mapping[str, Any], **kwargs: Any
    ) -> dict[str, Any] | None:
        return self.collection.find_one_and_replace(
            self._scope(filter), self._own(replacement), **kwargs
        )

    def delete_one(self, filter: Mapping[str, Any]) -> DeleteResult:
        return self.collection.delete_one(self._scope(filter))


def find_page(
    collection: Collection,
    filter: Mapping[str, Any],
    request: PageRequest,
    *,
    sort: list[tuple[str, int]],
    projection: Mapping[str, Any] | None = None,
) -> Page[dict[str, Any]]:
    """A page of any collection: `TenantScoped.find_page` for tenant data; this one directly
    only for what is not tenant data (e.g. intake's partners, which name their tenants)."""
    cursor = collection.find(filter, projection).sort(sort).skip(request.skip)
    items = list(cursor.limit(request.page_size))
    whole = request.skip == 0 and len(items) < request.page_size
    total = len(items) if whole else collection.count_documents(filter)
    return Page.of(items, request, total)
