"""API keys (principals) of a tenant: stored by the hash of the key (`_id`), never the key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.database import Database

from services.intake.repository.indexes import PRINCIPALS
from shared.events import outbox
from shared.events.outbox import Outgoing
from shared.paging import Page, PageRequest
from shared.tenancy import TenantScoped


class Principals:
    def __init__(self, db: Database, tenant_id: str) -> None:
        self.scoped = TenantScoped(db[PRINCIPALS], tenant_id)

    def insert(self, document: Mapping[str, Any], events: Sequence[Outgoing]) -> None:
        self.scoped.insert_one({**document, **outbox.pending(events)})

    def page(self, request: PageRequest) -> Page[dict[str, Any]]:
        """The tenant's keys, oldest first (never their hashes)."""
        return self.scoped.find_page(
            {}, request, sort=[("created_at", 1), ("_id", 1)], projection={"outbox": 0, "_id": 0}
        )

    def by_key_id(self, key_id: str) -> dict[str, Any] | None:
        return self.scoped.find_one({"key_id": key_id})

    def revoke(self, current: Mapping[str, Any], events: Sequence[Outgoing]) -> bool:
        """Mark the key revoked at the next version, if it is still at its version."""
        update = {"$set": {"revoked": True, "version": current["version"] + 1}}
        guarded = {"_id": current["_id"], "version": current["version"]}
        return bool(
            self.scoped.update_one(guarded, outbox.with_events(update, events)).matched_count
        )
