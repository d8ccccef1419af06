"""Every index the service's queries use, created once per process (API and worker).

Indexes on tenant data lead with `tenant_id`, with two documented exceptions, both operational
queries that by nature span tenants and carry no tenant:

- `deliveries.due`: (status, send_at). The sender claims the next due delivery of any clinic;
  one queue per deployment, not one per tenant, is what keeps sending fair and simple.
- `contacts.phone`: an inbound STOP from the SMS provider names only a phone number; the
  opt-out applies to every clinic that texts that number from our sender id.
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database

from shared.audit import AUDIT_INDEXES
from shared.events.outbox import OUTBOX_INDEX

INDEXES: dict[str, list[IndexModel]] = {
    "deliveries": [
        IndexModel([("status", ASCENDING), ("send_at", ASCENDING)], name="due"),
        IndexModel([("tenant_id", ASCENDING), ("created_at", DESCENDING)], name="tenant_log"),
        IndexModel(
            [("tenant_id", ASCENDING), ("recipient_key", ASCENDING), ("created_at", DESCENDING)],
            name="tenant_recipient_log",
        ),
        IndexModel([("tenant_id", ASCENDING), ("event.id", ASCENDING)], name="tenant_event"),
        IndexModel(
            [("tenant_id", ASCENDING), ("session_id", ASCENDING), ("session_time", ASCENDING)],
            name="tenant_session",
            partialFilterExpression={"session_id": {"$type": "string"}},
        ),
        OUTBOX_INDEX,
    ],
    "contacts": [
        IndexModel(
            [("phone", ASCENDING)],
            name="phone",
            partialFilterExpression={"phone": {"$type": "string"}},
        )
    ],
    "template_overrides": [
        IndexModel([("tenant_id", ASCENDING), ("language", ASCENDING), ("file", ASCENDING)])
    ],
    "locations": [IndexModel([("tenant_id", ASCENDING)], name="tenant")],
    "audit": AUDIT_INDEXES,
}


def ensure_indexes(db: Database) -> None:
    for collection, indexes in INDEXES.items():
        db[collection].create_indexes(indexes)
