"""Staff sessions (`_id` = session id): the current refresh token's hash and the earlier ones.

Rotation is one guarded update (the presented token must still be the current one), so two
uses of the same refresh token cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo.database import Database

from services.intake.domain.staff_sessions import REUSED_TOKENS_KEPT
from services.intake.repository.indexes import STAFF_SESSIONS
from shared.events import outbox
from shared.events.outbox import Outgoing
from shared.tenancy import TenantScoped


class StaffSessions:
    def __init__(self, db: Database, tenant_id: str) -> None:
        self.scoped = TenantScoped(db[STAFF_SESSIONS], tenant_id)

    def insert(self, document: Mapping[str, Any]) -> None:
        self.scoped.insert_one(document)

    def get(self, session_id: str) -> dict[str, Any] | None:
        return self.scoped.find_one({"_id": session_id}, {"outbox": 0})

    def rotate(self, session_id: str, old_hash: str, new_hash: str, now: datetime) -> bool:
        """Replace the current refresh token, if `old_hash` still is it (and the session lasts)."""
        result = self.scoped.update_one(
            {"_id": session_id, "refresh_hash": old_hash, "ended_at": None},
            {
                "$set": {"refresh_hash": new_hash, "last_active_at": now},
                "$push": {
                    "used_refresh_hashes": {"$each": [old_hash], "$slice": -REUSED_TOKENS_KEPT}
                },
            },
        )
        return bool(result.matched_count)

    def end(
        self, session_id: str, reason: str, now: datetime, events: Sequence[Outgoing] = ()
    ) -> bool:
        """End the session once (False if it had ended already)."""
        update = {"$set": {"ended_at": now, "end_reason": reason}}
        result = self.scoped.update_one(
            {"_id": session_id, "ended_at": None}, outbox.with_events(update, events)
        )
        return bool(result.matched_count)

    def second_factor_given(self, session_id: str) -> bool:
        result = self.scoped.update_one(
            {"_id": session_id, "ended_at": None}, {"$set": {"second_factor": True}}
        )
        return bool(result.matched_count)
