"""Every index the service's queries use, created once per process (API and worker).

Indexes on tenant data lead with `tenant_id`, with two documented exceptions, both operational
queries that by nature span tenants and carry no tenant:

- `deliveries.due`: (status, send_at). The sender claims the next due delivery of any clinic;
  one queue per deployment, not one per tenant, is what keeps sending fair and simple.
- `contacts.phone`: an inbound STOP from the SMS provider names only a phone number; the
  opt-out applies to every clinic that texts that number from our sender id.

The delivery log's pages are in `(created_at, _id)` order, newest first, and so are its
indexes: `tenant_log_page`, `tenant_recipient_log_page` (a recipient, or a patient) and
`tenant_<field>_log_page` for its filters by status, channel and kind. A page is read off an
index, never sorted in memory, and a time range (`created_since`, `created_before`) is a range
of `created_at` in any of them. They replace `tenant_log` and `tenant_recipient_log` (ordered by
`created_at` alone), which `create_indexes` drops where an older deployment still has them.
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database

from shared import replicas
from shared.audit import AUDIT_INDEXES
from shared.events.outbox import OUTBOX_INDEX

LOG_FILTERS = ("status", "channel", "kind")
"""The delivery log's filters with an index of their own, each in the log's page order."""

INDEXES: dict[str, list[IndexModel]] = {
    "deliveries": [
        IndexModel([("status", ASCENDING), ("send_at", ASCENDING)], name="due"),
        IndexModel(
            [("tenant_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
            name="tenant_log_page",
        ),
        IndexModel(
            [
                ("tenant_id", ASCENDING),
                ("recipient_key", ASCENDING),
                ("created_at", DESCENDING),
                ("_id", DESCENDING),
            ],
            name="tenant_recipient_log_page",
        ),
        *(
            IndexModel(
                [
                    ("tenant_id", ASCENDING),
                    (field, ASCENDING),
                    ("created_at", DESCENDING),
                    ("_id", DESCENDING),
                ],
                name=f"tenant_{field}_log_page",
            )
            for field in LOG_FILTERS
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
    **replicas.INDEXES,
    "audit": AUDIT_INDEXES,
}
RETIRED = {"deliveries": ("tenant_log", "tenant_recipient_log"), **replicas.RETIRED_INDEXES}
"""Indexes an older version created and no query uses any more."""


def create_indexes(db: Database) -> None:
    for collection, indexes in INDEXES.items():
        if indexes:
            db[collection].create_indexes(indexes)
    for collection, names in RETIRED.items():
        for name in set(names) & set(db[collection].index_information()):
            db[collection].drop_index(name)
