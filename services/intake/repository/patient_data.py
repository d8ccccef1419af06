"""The base of the repositories of patient data (patients, referrals, intakes): tenant and location.

Every repository is built for one tenant (`TenantScoped` refuses a call without one), and the
read methods also take the caller's locations (None: all), so a principal limited to some
locations never receives another location's object. Another tenant's or location's object is
simply not found (the API answers 404). Reads leave out the bookkeeping fields (outbox, applied
events, match keys).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, ClassVar

from pymongo.database import Database

from services.intake.repository.unique import inserted
from shared.paging import Page, PageRequest
from shared.tenancy import TenantScoped

Locations = Collection[str] | None
HIDDEN = {
    "outbox": 0,
    "outbox_due": 0,
    "outbox_seq": 0,
    "applied_events": 0,
    "match_keys": 0,
    "search": 0,
}


class PatientData:
    collection_name: ClassVar[str]
    location_field: ClassVar[str] = "location_id"

    def __init__(self, db: Database, tenant_id: str | None) -> None:
        self.scoped = TenantScoped(db[self.collection_name], tenant_id)
        self.tenant_id = self.scoped.tenant_id

    order: ClassVar[list[tuple[str, int]]] = [("_id", 1)]
    """The order of `page` (ending on `_id`, which is unique)."""

    def _visible(self, locations: Locations) -> dict[str, Any]:
        return {} if locations is None else {self.location_field: {"$in": sorted(locations)}}

    def get(self, object_id: str, locations: Locations = None) -> dict[str, Any] | None:
        return self.scoped.find_one({"_id": object_id, **self._visible(locations)}, HIDDEN)

    def page(
        self,
        locations: Locations,
        where: Mapping[str, Any],
        request: PageRequest,
        sort: list[tuple[str, int]] | None = None,
    ) -> Page[dict[str, Any]]:
        """The documents matching `where` at the visible locations, in `order` (or `sort`). A
        location asked for in `where` narrows the visible ones (one the caller may not see
        matches nothing)."""
        visible = {**where, **self._visible(locations)}
        wanted = where.get(self.location_field)
        if locations is not None and isinstance(wanted, str):
            visible[self.location_field] = {"$in": [wanted] if wanted in locations else []}
        return self.scoped.find_page(visible, request, sort=sort or self.order, projection=HIDDEN)

    def insert(self, document: Mapping[str, Any]) -> bool:
        """Insert a new document; False when one of its unique keys is taken already."""
        return inserted(self.scoped.insert_one, document)

    def update(self, where: Mapping[str, Any], update: Mapping[str, Any]) -> bool:
        """One guarded update; False when `where` matched nothing (e.g. the version moved on)."""
        return bool(self.scoped.update_one(where, update).matched_count)
