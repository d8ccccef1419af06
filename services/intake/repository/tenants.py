"""Tenants (clinic organisations): one document each, holding its locations (`_id` = tenant id)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.database import Database

from services.intake.repository.indexes import TENANTS
from services.intake.repository.unique import inserted
from shared.events import outbox
from shared.events.outbox import Outgoing
from shared.tenancy import TenantScoped


def every_tenant_id(db: Database) -> list[str]:
    """Every tenant's id, for the ops tasks that span tenants (the CLI)."""
    return sorted(str(t["_id"]) for t in db[TENANTS].find({}, {"_id": 1}))


class Tenants:
    def __init__(self, db: Database, tenant_id: str) -> None:
        self.scoped = TenantScoped(db[TENANTS], tenant_id)
        self.tenant_id = tenant_id

    def get(self) -> dict[str, Any] | None:
        return self.scoped.find_one({"_id": self.tenant_id}, {"outbox": 0})

    def insert(self, document: Mapping[str, Any], events: Sequence[Outgoing]) -> bool:
        """The new tenant with its events; False when the tenant id is taken."""
        return inserted(self.scoped.insert_one, {**document, **outbox.pending(events)})

    def add_location(self, location: Mapping[str, Any], events: Sequence[Outgoing]) -> bool:
        """Append a location unless its id is taken meanwhile (False then)."""
        update = {"$push": {"locations": dict(location)}, "$inc": {"version": 1}}
        result = self.scoped.update_one(
            {"_id": self.tenant_id, "locations.location_id": {"$ne": location["location_id"]}},
            outbox.with_events(update, events),
        )
        return bool(result.matched_count)

    def replace_location(
        self, location: Mapping[str, Any], seen_version: int, events: Sequence[Outgoing]
    ) -> bool:
        """Store the location's new fields if it is still at `seen_version` (False otherwise)."""
        fields = {f"locations.$.{k}": v for k, v in location.items() if k != "location_id"}
        seen = {"location_id": location["location_id"], "version": seen_version}
        result = self.scoped.update_one(
            {"_id": self.tenant_id, "locations": {"$elemMatch": seen}},
            outbox.with_events({"$set": fields, "$inc": {"version": 1}}, events),
        )
        return bool(result.matched_count)

    def set_settings(self, settings: Mapping[str, Any], seen_version: int) -> bool:
        """Store the tenant's settings if it is still at `seen_version` (False otherwise)."""
        result = self.scoped.update_one(
            {"_id": self.tenant_id, "version": seen_version},
            {"$set": {"settings": dict(settings)}, "$inc": {"version": 1}},
        )
        return bool(result.matched_count)

    def set_sign_in(self, policy: Mapping[str, Any]) -> bool:
        """The clinic's sign-in policy (`domain.staff_users.SignInPolicy`)."""
        result = self.scoped.update_one(
            {"_id": self.tenant_id}, {"$set": {"sign_in": dict(policy)}, "$inc": {"version": 1}}
        )
        return bool(result.matched_count)
