"""Replicas of intake's access data in other services: versioned, per tenant."""

import pymongo
import pytest

from shared.events import new_event
from shared.replicas import LOCATION_UPSERTED, location_key, replica_handlers


@pytest.fixture
def db(mongo_url, mongo_db_name):
    client = pymongo.MongoClient(mongo_url)
    yield client[f"{mongo_db_name}_replica"]
    client.close()


def location_event(tenant_id: str, location_id: str, timezone: str, version: int):
    data = {
        "tenant_id": tenant_id,
        "location_id": location_id,
        "name": location_id.title(),
        "timezone": timezone,
        "address": "1 Main St",
        "version": version,
    }
    return new_event(LOCATION_UPSERTED, source="clinic/intake", tenant_id=tenant_id, data=data)


def test_two_clinics_may_each_have_a_location_with_the_same_id(db):
    handlers = replica_handlers(db.principals, db.locations, db.revocations)
    assert handlers[LOCATION_UPSERTED](location_event("clinic-a", "main", "America/New_York", 1))
    assert handlers[LOCATION_UPSERTED](location_event("clinic-b", "main", "Europe/Berlin", 1))
    assert (
        db.locations.find_one({"_id": location_key("clinic-a", "main")})["timezone"]
        == "America/New_York"
    )
    assert (
        db.locations.find_one({"_id": location_key("clinic-b", "main")})["timezone"]
        == "Europe/Berlin"
    )


def test_an_older_version_never_overwrites_a_newer_one(db):
    handlers = replica_handlers(db.principals, db.locations, db.revocations)
    assert handlers[LOCATION_UPSERTED](location_event("clinic-a", "main", "Europe/Paris", 2))
    assert handlers[LOCATION_UPSERTED](location_event("clinic-a", "main", "UTC", 1)) is False
    assert (
        handlers[LOCATION_UPSERTED](location_event("clinic-a", "main", "Europe/Paris", 2)) is False
    )
    assert (
        db.locations.find_one({"_id": location_key("clinic-a", "main")})["timezone"]
        == "Europe/Paris"
    )
