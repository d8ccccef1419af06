"""Builds an intake world for tests: tenants with locations, API keys, partners, and referrals
(the service's own examples, with dates moved to around today).

Everything goes through the service's own use cases (services.intake.usecases), as the CLI and
the admin API do.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from pymongo.database import Database

from services.intake.bootstrap import bootstrap
from services.intake.repository import indexes
from services.intake.usecases import keys, partners, tenants
from shared.config import load_settings

EXAMPLES = resources.files("services.intake.partner_forms") / "examples"
LOCATIONS = [("Main", "America/New_York"), ("Uptown", "America/Chicago")]


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def _dates() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {
        "authored_on": (today - timedelta(days=2)).isoformat(),
        "valid_from": today.isoformat(),
        "expires_on": (today + timedelta(days=90)).isoformat(),
    }


def native_referral(**changes: Any) -> dict[str, Any]:
    """The native example, valid today, with a fresh partner referral id unless given."""
    referral = example("referral_native.json")
    referral.pop("tenant_id", None)
    referral.update(_dates())
    referral["partner_referral_id"] = f"REF-{uuid.uuid4().hex[:10]}"
    referral.update(changes)
    return referral


def fhir_referral(partner_referral_id: str | None = None) -> dict[str, Any]:
    """The FHIR example bundle, valid today, with a fresh partner referral id unless given."""
    bundle = copy.deepcopy(example("referral_bundle.json"))
    dates = _dates()
    request = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
    )
    request["occurrencePeriod"] = {"start": dates["valid_from"], "end": dates["expires_on"]}
    request["authoredOn"] = dates["authored_on"]
    request["identifier"][0]["value"] = partner_referral_id or f"REF-{uuid.uuid4().hex[:10]}"
    return bundle


def resource(bundle: dict[str, Any], kind: str, nth: int = 0) -> dict[str, Any]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind][nth]


def bearer(raw_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw_key}"}


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

    def partner(self, partner_id: str, tenants: list[str]) -> dict:
        return partners.create_partner(
            self.deps, partner_id=partner_id, name=partner_id.title(), tenants=tenants
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
