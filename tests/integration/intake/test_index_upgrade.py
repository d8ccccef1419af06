"""`create_indexes` on a database an older version made: the indexes it retired (lists' indexes
without their trailing order) are dropped, the new ones made beside them, and a second run
changes nothing."""

from __future__ import annotations

import pymongo
import pytest
from pymongo import ASCENDING, DESCENDING

from services.intake.repository.indexes import INDEXES, RETIRED, create_indexes

OLD = {
    "partners": {"tenants": [("tenants", ASCENDING)]},
    "patients": {
        "locations": [("tenant_id", ASCENDING), ("location_ids", ASCENDING)],
        "search_birth_date": [
            ("tenant_id", ASCENDING),
            ("birth_date", ASCENDING),
            ("search.sort", ASCENDING),
        ],
        "search_identifier": [("tenant_id", ASCENDING), ("search.ids", ASCENDING)],
        "search_phone": [("tenant_id", ASCENDING), ("search.phone", ASCENDING)],
        "search_sort": [("tenant_id", ASCENDING), ("search.sort", ASCENDING)],
    },
    "referrals": {
        "patient": [("tenant_id", ASCENDING), ("patient_id", ASCENDING)],
        "location": [("tenant_id", ASCENDING), ("location_id", ASCENDING)],
        "status_received": [
            ("tenant_id", ASCENDING),
            ("status", ASCENDING),
            ("received_at", DESCENDING),
        ],
        "received": [("tenant_id", ASCENDING), ("received_at", DESCENDING)],
    },
    "intakes": {
        "patient": [("tenant_id", ASCENDING), ("patient_id", ASCENDING)],
        "location": [("tenant_id", ASCENDING), ("location_id", ASCENDING)],
    },
    "users": {"tenant_name": [("tenant_id", ASCENDING), ("name", ASCENDING)]},
}
"""The older version's indexes, as it made them."""


@pytest.fixture
def old_db(mongo_url):
    client = pymongo.MongoClient(mongo_url, serverSelectionTimeoutMS=5000)
    name = f"t_index_upgrade_{id(client)}"
    db = client[name]
    for collection, indexes in OLD.items():
        for index_name, keys in indexes.items():
            db[collection].create_index(keys, name=index_name)
    try:
        yield db
    finally:
        client.drop_database(name)
        client.close()


def test_an_older_databases_retired_indexes_are_dropped_and_the_new_ones_made(old_db):
    assert {c: set(names) for c, names in RETIRED.items()} == {
        c: set(names) for c, names in OLD.items()
    }
    for _ in range(2):  # idempotent
        create_indexes(old_db)
        for collection, retired in RETIRED.items():
            present = set(old_db[collection].index_information())
            assert not present & set(retired), collection
            assert {i.document["name"] for i in INDEXES[collection]} <= present, collection
