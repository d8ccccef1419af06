"""Property 13 for every write `shared.tenancy.TenantScoped` offers (real stand-in database): a
write for tenant A never matches, replaces or deletes a document of tenant B, not even one that
holds the `_id` A names; it cannot move a document to another tenant; without a tenant it fails.
And the access replicas (`shared.replicas`) keep each tenant's rows apart the same way."""

from __future__ import annotations

import pymongo
import pytest

from shared.events import new_event
from shared.replicas import LOCATION_UPSERTED, location_key, replica_handlers
from shared.tenancy import MissingTenant, TenantScoped

A, B = "clinic-a", "clinic-b"


@pytest.fixture
def db(mongo_url, mongo_db_name):
    client = pymongo.MongoClient(mongo_url)
    yield client[f"{mongo_db_name}_tenancy"]
    client.close()


@pytest.fixture
def things(db):
    db.things.insert_many(
        [
            {"_id": "shared-id", "tenant_id": B, "colour": "blue"},
            {"_id": "b-2", "tenant_id": B, "colour": "blue"},
            {"_id": "a-1", "tenant_id": A, "colour": "blue"},
        ]
    )
    return db.things


def _b(things) -> list[dict]:
    return list(things.find({"tenant_id": B}).sort("_id", 1))


def test_no_write_for_one_tenant_reaches_another_tenants_documents(things):
    before = _b(things)
    a = TenantScoped(things, A)

    assert a.update_one({"_id": "shared-id"}, {"$set": {"colour": "red"}}).matched_count == 0
    assert a.update_many({"colour": "blue"}, {"$set": {"colour": "red"}}).modified_count == 1
    assert a.find_one_and_update({"_id": "b-2"}, {"$set": {"colour": "red"}}) is None
    assert a.replace_one({"_id": "b-2"}, {"colour": "red"}).matched_count == 0
    assert a.find_one_and_replace({"_id": "shared-id"}, {"colour": "red"}) is None
    assert a.delete_one({"_id": "shared-id"}).deleted_count == 0
    assert a.delete_one({"colour": "red"}).deleted_count == 1  # its own
    with pytest.raises(pymongo.errors.DuplicateKeyError):  # the id is taken: refused
        a.replace_one({"_id": "shared-id"}, {"colour": "red"}, upsert=True)
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        a.update_one({"_id": "shared-id"}, {"$set": {"colour": "red"}}, upsert=True)

    assert _b(things) == before


def test_a_write_cannot_move_a_document_to_another_tenant(things):
    a = TenantScoped(things, A)
    for write in (
        lambda: a.update_one({"_id": "a-1"}, {"$set": {"tenant_id": B}}),
        lambda: a.update_many({}, {"$set": {"tenant_id": B}}),
        lambda: a.find_one_and_update({"_id": "a-1"}, {"$setOnInsert": {"tenant_id": B}}),
        lambda: a.replace_one({"_id": "a-1"}, {"tenant_id": B, "colour": "red"}),
        lambda: a.find_one_and_replace({"_id": "a-1"}, {"tenant_id": B}),
        lambda: a.insert_one({"_id": "a-9", "tenant_id": B}),
    ):
        with pytest.raises(ValueError):
            write()
    assert things.find_one({"_id": "a-1"})["tenant_id"] == A
    replaced = a.find_one_and_replace(
        {"_id": "a-1"}, {"colour": "green"}, return_document=pymongo.ReturnDocument.AFTER
    )
    assert replaced == {"_id": "a-1", "colour": "green", "tenant_id": A}


@pytest.mark.parametrize("tenant", [None, ""])
def test_a_repository_without_a_tenant_cannot_be_used(things, tenant):
    with pytest.raises(MissingTenant):
        TenantScoped(things, tenant)


def test_a_replica_event_never_overwrites_another_tenants_row_under_the_same_id(db):
    """A location row held by B under the key A's event names stays B's."""
    db.locations.insert_one(
        {"_id": location_key(A, "main"), "tenant_id": B, "location_id": "main", "version": 1}
    )
    data = {"tenant_id": A, "location_id": "main", "name": "Main", "timezone": "UTC",
            "address": None, "version": 5}  # fmt: skip
    event = new_event(LOCATION_UPSERTED, source="clinic/intake", tenant_id=A, data=data)

    applied = replica_handlers(db.principals, db.locations, db.revocations)[LOCATION_UPSERTED](
        event
    )

    assert applied is False
    assert db.locations.find_one({"_id": location_key(A, "main")})["tenant_id"] == B
