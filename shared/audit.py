"""Audit records: who did what to which object, for every read and write of patient data.

A record names the actor, tenant, action, object type and id, outcome and correlation id (and,
for a signed-in person, `actor_name`: the staff member's name, so the trail reads per person);
it never carries patient data (no names, contacts or clinical detail). Kept in the service's
`audit` collection (indexed by tenant and time) and also logged on the `audit` logger.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database

from shared import context

log = logging.getLogger("audit")
AUDIT_INDEXES = [IndexModel([("tenant_id", ASCENDING), ("at", DESCENDING)], name="tenant_at")]


def record(
    db: Database,
    *,
    actor: str,
    tenant_id: str | None,
    action: str,
    object_type: str,
    object_id: str | None = None,
    outcome: str = "ok",
    detail: str | None = None,
    actor_name: str | None = None,
) -> None:
    entry: dict[str, Any] = {
        "tenant_id": tenant_id,
        "at": datetime.now(UTC),
        "actor": actor,
        "action": action,
        "object": {"type": object_type, "id": object_id},
        "outcome": outcome,
        "correlation_id": context.correlation_id.get(),
        "request_id": context.request_id.get(),
    }
    if actor_name:
        entry["actor_name"] = actor_name[:200]
    if detail:
        entry["detail"] = detail[:500]
    db.audit.insert_one(entry)
    log.info("audit", extra={k: v for k, v in entry.items() if k not in ("at", "_id")})
