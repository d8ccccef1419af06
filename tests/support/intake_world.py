"""Builds an intake world for tests: tenants with locations, API keys and partners, in one intake
database (the referrals a partner sends are `testkit.referrals`).

Everything goes through the service's own use cases (services.intake.usecases), as the CLI and
the admin API do.
"""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from services.intake.bootstrap import bootstrap
from services.intake.repository import indexes
from services.intake.usecases import keys, partners, tenants
from shared.config import load_settings

LOCATIONS = [("Main", "America/New_York"), ("Uptown", "America/Chicago")]


class OpenDatabase:
    """A database the test opened itself, where the use cases' `Deps` expect a `Mongo`."""

    def __init__(self, db: Database) -> None:
        self.db = db


class World:
    """Tenants, keys and partners in one intake database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.deps = bootstrap(load_settings("intake"), OpenDatabase(db))
        indexes.create_indexes(db)

    def tenant(self, tenant_id: str, locations: list[tuple[str, str]] = LOCATIONS) -> dict:
        return tenants.create_tenant(
            self.deps, name=tenant_id.title(), tenant_id=tenant_id, locations=locations
        )

    def key(
        self,
        tenant_id: str,
        role: str = "admin",
        locations: list[str] | None = None,
        partner_id: str | None = None,
    ) -> str:
        _, raw_key = keys.create_key(
            self.deps,
            tenant_id,
            role=role,
            name=f"{role} for tests",
            locations=locations,
            partner_id=partner_id,
        )
        return raw_key

    def partner(self, partner_id: str, tenants: list[str], status_format: str = "native") -> dict:
        return partners.create_partner(
            self.deps,
            partner_id=partner_id,
            name=partner_id.title(),
            tenants=tenants,
            status_format=status_format,
        )

    def count(self, collection: str, **where: Any) -> int:
        return self.db[collection].count_documents(where)

    def audit(self, **where: Any) -> list[dict]:
        return list(self.db.audit.find(where))

    def pending_events(self, collection: str) -> list[dict]:
        """Events still in the outbox of a collection's documents (no relay running)."""
        return [
            item["event"]
            for doc in self.db[collection].find({"outbox.0": {"$exists": True}})
            for item in doc["outbox"]
        ]
