"""The intake database: every collection, its indexes, and `create_indexes`, the one index hook.

Every index on tenant data leads with `tenant_id`. The unique indexes are the backbone of
deduplication: one referral per (tenant, partner, partner's referral id), one patient per
match key within a tenant (see `domain/patient_matching.match_keys`), one intake per referral,
one staff user per email within a tenant. The staff's referral inbox filters by status,
location, partner or arrival, each on an index of its own (newest first). Staff find a patient
by a name prefix, birth date, identifier or phone, each on an index of its own over the search
key (`domain/patient_search`). Staff sessions, sign-in failures and rate-limit
counters leave by TTL indexes (their reads are by `_id`).
Keys stored in an earlier format are not recomputed here: such patients are simply not matched
automatically any more (docs/ops.md, "Patient records").
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database

from shared.audit import AUDIT_INDEXES
from shared.events.outbox import OUTBOX_INDEX

TENANTS = "tenants"
PRINCIPALS = "principals"
PARTNERS = "partners"
PATIENTS = "patients"
REFERRALS = "referrals"
INTAKES = "intakes"
PARTNER_REJECTIONS = "partner_rejections"
USERS = "users"
STAFF_SESSIONS = "staff_sessions"
SIGN_IN_FAILURES = "sign_in_failures"
RATE_LIMITS = "rate_limits"

OUTBOX_COLLECTIONS = (
    TENANTS,
    PRINCIPALS,
    PATIENTS,
    REFERRALS,
    INTAKES,
    PARTNER_REJECTIONS,
    USERS,
    STAFF_SESSIONS,
)
SESSION_RECORDS_KEPT_S = 90 * 24 * 3600
"""How long an ended or expired staff session stays (for the record) after its absolute end."""

INDEXES: dict[str, list[IndexModel]] = {
    TENANTS: [],
    PRINCIPALS: [IndexModel([("tenant_id", ASCENDING), ("key_id", ASCENDING)], name="tenant_key")],
    PARTNERS: [
        IndexModel([("status_queue_declared", ASCENDING)], name="status_queue_declared"),
        IndexModel([("tenants", ASCENDING)], name="tenants"),
    ],
    PATIENTS: [
        IndexModel(
            [("tenant_id", ASCENDING), ("match_keys", ASCENDING)], name="match", unique=True
        ),
        IndexModel([("tenant_id", ASCENDING), ("location_ids", ASCENDING)], name="locations"),
        IndexModel(
            [("tenant_id", ASCENDING), ("search.words", ASCENDING), ("search.sort", ASCENDING)],
            name="search_name",
        ),
        IndexModel(
            [("tenant_id", ASCENDING), ("birth_date", ASCENDING), ("search.sort", ASCENDING)],
            name="search_birth_date",
        ),
        IndexModel([("tenant_id", ASCENDING), ("search.ids", ASCENDING)], name="search_identifier"),
        IndexModel([("tenant_id", ASCENDING), ("search.phone", ASCENDING)], name="search_phone"),
        IndexModel([("tenant_id", ASCENDING), ("search.sort", ASCENDING)], name="search_sort"),
    ],
    REFERRALS: [
        IndexModel(
            [
                ("tenant_id", ASCENDING),
                ("partner_id", ASCENDING),
                ("partner_referral_id", ASCENDING),
            ],
            name="partner_referral",
            unique=True,
        ),
        IndexModel([("tenant_id", ASCENDING), ("patient_id", ASCENDING)], name="patient"),
        IndexModel(  # a patient's referrals, newest first (the chart): no sort in memory
            [
                ("tenant_id", ASCENDING),
                ("patient_id", ASCENDING),
                ("received_at", DESCENDING),
                ("_id", DESCENDING),
            ],
            name="patient_newest",
        ),
        IndexModel([("tenant_id", ASCENDING), ("location_id", ASCENDING)], name="location"),
        IndexModel(
            [("tenant_id", ASCENDING), ("status", ASCENDING), ("received_at", DESCENDING)],
            name="status_received",
        ),
        IndexModel([("tenant_id", ASCENDING), ("received_at", DESCENDING)], name="received"),
    ],
    INTAKES: [
        IndexModel(
            [("tenant_id", ASCENDING), ("referral_id", ASCENDING)], name="referral", unique=True
        ),
        IndexModel([("tenant_id", ASCENDING), ("patient_id", ASCENDING)], name="patient"),
        IndexModel(  # a patient's intakes, newest first (the chart): no sort in memory
            [
                ("tenant_id", ASCENDING),
                ("patient_id", ASCENDING),
                ("completed_at", DESCENDING),
                ("_id", DESCENDING),
            ],
            name="patient_newest",
        ),
        IndexModel([("tenant_id", ASCENDING), ("location_id", ASCENDING)], name="location"),
    ],
    PARTNER_REJECTIONS: [
        IndexModel([("partner_id", ASCENDING), ("at", DESCENDING)], name="partner_at"),
    ],
    USERS: [
        IndexModel([("tenant_id", ASCENDING), ("email", ASCENDING)], name="email", unique=True),
        IndexModel([("tenant_id", ASCENDING), ("name", ASCENDING)], name="tenant_name"),
    ],
    STAFF_SESSIONS: [
        IndexModel(
            [("ends_at", ASCENDING)], name="expires", expireAfterSeconds=SESSION_RECORDS_KEPT_S
        ),
    ],
    SIGN_IN_FAILURES: [
        IndexModel([("expires_at", ASCENDING)], name="expires", expireAfterSeconds=0),
    ],
    RATE_LIMITS: [
        IndexModel([("expires_at", ASCENDING)], name="expires", expireAfterSeconds=0),
    ],
}


def create_indexes(db: Database) -> None:
    """Create every index (idempotent); run once per process before the first use."""
    for name, indexes in INDEXES.items():
        if indexes:
            db[name].create_indexes(indexes)
        if name in OUTBOX_COLLECTIONS:
            db[name].create_indexes([OUTBOX_INDEX])
    db.audit.create_indexes(AUDIT_INDEXES)
