"""The intake database: every collection, its indexes, and `create_indexes`, the one index hook.

Every index on tenant data leads with `tenant_id`. The unique indexes are the backbone of
deduplication: one referral per (tenant, partner, partner's referral id), one patient per
match key within a tenant (see `domain/patient_matching.match_keys`), one intake per referral,
one staff user per email within a tenant. The staff's referral inbox filters by status,
location, partner or arrival, each on an index of its own (newest first). Staff find a patient
by a name prefix, birth date, identifier or phone, each on an index of its own over the search
key (`domain/patient_search`); a name prefix alone (a range on the words, which gives no order)
is read in name order from `search_sort_id`. Every list's index ends in the list's order, `_id`
last, so no page is sorted in memory (tests/integration/test_query_shapes_indexed.py). Staff
sessions, sign-in failures and rate-limit counters leave by TTL indexes (their reads are by
`_id`).
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

NEWEST = [("received_at", DESCENDING), ("_id", DESCENDING)]
"""The referrals' order (`Referrals.order`): every inbox index ends in it."""
BY_NAME = [("search.sort", ASCENDING), ("_id", ASCENDING)]
"""The patients' search order (`patients.SEARCH_ORDER`): every search index ends in it."""
BY_ID = [("_id", ASCENDING)]
"""The order of the other pages (`PatientData.order`)."""
TENANT = ("tenant_id", ASCENDING)

INDEXES: dict[str, list[IndexModel]] = {
    TENANTS: [],
    PRINCIPALS: [
        IndexModel([TENANT, ("key_id", ASCENDING)], name="tenant_key"),
        IndexModel(  # the keys' list (`Principals.page`), oldest first
            [TENANT, ("created_at", ASCENDING), ("_id", ASCENDING)], name="tenant_created_id"
        ),
    ],
    PARTNERS: [
        IndexModel([("status_queue_declared", ASCENDING)], name="status_queue_declared"),
        IndexModel([("tenants", ASCENDING), *BY_ID], name="tenants_id"),
    ],
    PATIENTS: [
        IndexModel([TENANT, ("match_keys", ASCENDING)], name="match", unique=True),
        IndexModel([TENANT, ("location_ids", ASCENDING), *BY_NAME], name="locations_sort_id"),
        IndexModel(
            [TENANT, ("search.words", ASCENDING), ("search.sort", ASCENDING)],
            name="search_name",
        ),
        IndexModel([TENANT, ("birth_date", ASCENDING), *BY_NAME], name="search_birth_date_id"),
        IndexModel([TENANT, ("search.ids", ASCENDING), *BY_NAME], name="search_identifier_sort_id"),
        IndexModel([TENANT, ("search.phone", ASCENDING), *BY_NAME], name="search_phone_sort_id"),
        IndexModel([TENANT, *BY_NAME], name="search_sort_id"),
        IndexModel([TENANT, *BY_ID], name="tenant_by_id"),
    ],
    REFERRALS: [
        IndexModel(
            [TENANT, ("partner_id", ASCENDING), ("partner_referral_id", ASCENDING)],
            name="partner_referral",
            unique=True,
        ),
        IndexModel([TENANT, ("patient_id", ASCENDING), *NEWEST], name="patient_newest"),
        IndexModel([TENANT, ("location_id", ASCENDING), *NEWEST], name="location_received_id"),
        IndexModel([TENANT, ("status", ASCENDING), *NEWEST], name="status_received_id"),
        IndexModel([TENANT, ("partner_id", ASCENDING), *NEWEST], name="partner_received_id"),
        IndexModel([TENANT, *NEWEST], name="received_id"),
    ],
    INTAKES: [
        IndexModel([TENANT, ("referral_id", ASCENDING)], name="referral", unique=True),
        IndexModel([TENANT, ("patient_id", ASCENDING), *BY_ID], name="patient_by_id"),
        IndexModel(  # a patient's intakes, newest first (the chart)
            [TENANT, ("patient_id", ASCENDING), ("completed_at", DESCENDING), ("_id", DESCENDING)],
            name="patient_newest",
        ),
        IndexModel([TENANT, ("location_id", ASCENDING), *BY_ID], name="location_by_id"),
        IndexModel([TENANT, *BY_ID], name="tenant_by_id"),
    ],
    PARTNER_REJECTIONS: [
        IndexModel([("partner_id", ASCENDING), ("at", DESCENDING)], name="partner_at"),
    ],
    USERS: [
        IndexModel([TENANT, ("email", ASCENDING)], name="email", unique=True),
        IndexModel([TENANT, ("name", ASCENDING), *BY_ID], name="tenant_name_id"),
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
"""Every list's index ends in the list's order, `_id` last (the pages' tie-break), so the
server returns a page in order from the index rather than sorting what it found."""

RETIRED = {
    PARTNERS: ("tenants",),
    PATIENTS: (
        "locations",
        "search_birth_date",
        "search_identifier",
        "search_phone",
        "search_sort",
    ),
    REFERRALS: ("patient", "location", "status_received", "received"),
    INTAKES: ("patient", "location"),
    USERS: ("tenant_name",),
}
"""Indexes an older version created: without the trailing order (`_id` last) they served the
lists' filters but not their order, so the server sorted each page in memory. (Referrals'
`patient`, on (tenant, patient), is a prefix of `patient_newest`, which serves its queries.)"""


def create_indexes(db: Database) -> None:
    """Create every index (idempotent); run once per process before the first use."""
    for name, indexes in INDEXES.items():
        if indexes:
            db[name].create_indexes(indexes)
        if name in OUTBOX_COLLECTIONS:
            db[name].create_indexes([OUTBOX_INDEX])
    db.audit.create_indexes(AUDIT_INDEXES)
    for name, retired in RETIRED.items():
        for index in set(retired) & set(db[name].index_information()):
            db[name].drop_index(index)
