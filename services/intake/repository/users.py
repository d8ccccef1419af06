"""Staff users of a tenant (`_id` = user id; one per email within a tenant).

Secrets are never in what `get`/`page` answer to the API layer: the password hash, the TOTP
secret, recovery-code hashes and link and challenge hashes stay here and in the use cases.
Every change that matters to access is guarded by the user's `version` and bumps it, so a lost
race changes nothing (`retry_on_conflict` reloads).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.database import Database

from services.intake.repository.indexes import USERS
from services.intake.repository.unique import inserted
from shared.events import outbox
from shared.events.outbox import Outgoing
from shared.paging import Page, PageRequest
from shared.tenancy import TenantScoped

SECRETS = {"password_hash": 0, "totp": 0, "totp_pending": 0, "recovery_codes": 0, "link": 0}
HIDDEN = {"outbox": 0, "challenge": 0, **SECRETS}
LISTED = {name: 0 for name in HIDDEN if name != "totp"}


class Users:
    def __init__(self, db: Database, tenant_id: str) -> None:
        self.scoped = TenantScoped(db[USERS], tenant_id)

    def insert(self, document: Mapping[str, Any], events: Sequence[Outgoing]) -> bool:
        """The new user with its events; False when the email is taken in this tenant."""
        return inserted(self.scoped.insert_one, {**document, **outbox.pending(events)})

    def get(self, user_id: str) -> dict[str, Any] | None:
        """The whole user (secrets included: for the use cases only)."""
        return self.scoped.find_one({"_id": user_id}, {"outbox": 0})

    def by_email(self, email: str) -> dict[str, Any] | None:
        return self.scoped.find_one({"email": email}, {"outbox": 0})

    def page(self, filters: Mapping[str, Any], request: PageRequest) -> Page[dict[str, Any]]:
        """Users by name (then id), without their secrets but the second factor's (read to say
        whether there is one: `usecases.users.view` drops it)."""
        return self.scoped.find_page(
            dict(filters), request, sort=[("name", 1), ("_id", 1)], projection=LISTED
        )

    def active_with_role(self, role: str, limit: int = 200) -> list[dict[str, Any]]:
        """Active users of one role by name: their id, name and locations (e.g. the therapists
        a calendar books)."""
        found = self.scoped.find(
            {"role": role, "status": "active"}, {"name": 1, "locations": 1}
        ).sort([("name", 1), ("_id", 1)])
        return list(found.limit(limit))

    def change(
        self,
        current: Mapping[str, Any],
        update: Mapping[str, Any],
        events: Sequence[Outgoing] = (),
        *,
        guard: Mapping[str, Any] | None = None,
    ) -> bool:
        """Apply `update` and bump the version, if the user is still at `current`'s version
        (and matches `guard`); False otherwise."""
        merged = {op: dict(fields) for op, fields in update.items()}
        merged.setdefault("$inc", {})["version"] = 1
        where = {"_id": current["_id"], "version": current["version"], **(guard or {})}
        result = self.scoped.update_one(where, outbox.with_events(merged, events))
        return bool(result.matched_count)

    def touch(
        self,
        user_id: str,
        update: Mapping[str, Any],
        guard: Mapping[str, Any],
        events: Sequence[Outgoing] = (),
    ) -> bool:
        """An update that is no access change (a sign-in challenge, the last TOTP step used, a
        reset link): no new version; applied only where `guard` still holds."""
        merged = {op: dict(fields) for op, fields in update.items()}
        result = self.scoped.update_one(
            {"_id": user_id, **guard}, outbox.with_events(merged, events)
        )
        return bool(result.matched_count)
