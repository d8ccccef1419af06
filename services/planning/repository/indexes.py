"""Every index of the planning database: `create_indexes(db)`, once per process (the API before
its first request, the worker at start-up).

Every index on tenant data leads with ``tenant_id``, except ``referral_check_due``: like the
outbox relay's ``outbox_due`` it is a cross-tenant work queue that only the worker's referral
tracker reads (sparse: only plans whose referral is due for a check are in it); what it finds
is then handled tenant by tenant.
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database

from shared.audit import AUDIT_INDEXES
from shared.events.outbox import OUTBOX_INDEX
from shared.replicas import INDEXES as REPLICA_INDEXES
from shared.replicas import REVOCATIONS

PLAN_INDEXES = [
    IndexModel(
        [("tenant_id", ASCENDING), ("referral_id", ASCENDING)],
        name="one_plan_per_referral",
        unique=True,
    ),
    IndexModel(
        [
            ("tenant_id", ASCENDING),
            ("status", ASCENDING),
            ("created_at", DESCENDING),
            ("_id", DESCENDING),
        ],
        name="tenant_status_created_id",
    ),
    IndexModel(
        [
            ("tenant_id", ASCENDING),
            ("location_id", ASCENDING),
            ("created_at", DESCENDING),
            ("_id", DESCENDING),
        ],
        name="tenant_location_created_id",
    ),
    IndexModel(
        [
            ("tenant_id", ASCENDING),
            ("patient_id", ASCENDING),
            ("created_at", DESCENDING),
            ("_id", DESCENDING),
        ],
        name="tenant_patient_created_id",
    ),
    IndexModel(
        [
            ("tenant_id", ASCENDING),
            ("sessions.therapist_id", ASCENDING),
            ("sessions.starts_at", ASCENDING),
        ],
        name="tenant_therapist_sessions",
    ),
    IndexModel(
        [
            ("tenant_id", ASCENDING),
            ("sessions.room_key", ASCENDING),
            ("sessions.starts_at", ASCENDING),
        ],
        name="tenant_room_sessions",
    ),
    IndexModel(
        [
            ("tenant_id", ASCENDING),
            ("sessions.location_id", ASCENDING),
            ("sessions.starts_at", ASCENDING),
        ],
        name="tenant_location_sessions",
    ),
    IndexModel([("referral_check_at", ASCENDING)], name="referral_check_due", sparse=True),
    OUTBOX_INDEX,
]


INDEXES = {"plans": PLAN_INDEXES, "audit": AUDIT_INDEXES, REVOCATIONS: REPLICA_INDEXES[REVOCATIONS]}
"""By collection. The replicas (`locations`, `principals`, `revocations`) are read by `_id`
only; ended sessions leave `revocations` by its TTL index."""


RETIRED = {"plans": ("tenant_status_created", "tenant_location_created", "tenant_patient_created")}
"""Indexes an older version created: without `_id`, they served the lists' filter but not their
order (`NEWEST_FIRST`: created_at, then _id), so the server sorted each page in memory."""


def create_indexes(db: Database) -> None:
    for collection, indexes in INDEXES.items():
        db[collection].create_indexes(indexes)
    for collection, names in RETIRED.items():
        for name in set(names) & set(db[collection].index_information()):
            db[collection].drop_index(name)
