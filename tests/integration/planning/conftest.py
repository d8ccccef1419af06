"""Fixtures for planning's integration tests: its database (indexes made), its event handlers
called directly, its Flask app in process, and API keys of several roles and clinics."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from pymongo.database import Database

from services.planning import bootstrap, consumers
from services.planning.app import create_app
from services.planning.repository.indexes import create_indexes
from shared.events import Event
from shared.mongo import Mongo
from shared.web.auth import clear_cache
from tests.support import planning_data as data


@pytest.fixture
def planning_settings(make_settings):
    return make_settings("planning")


@pytest.fixture
def mongo(planning_settings) -> Iterator[Mongo]:
    mongo = Mongo(planning_settings)
    create_indexes(mongo.db)
    data.insert_location(mongo.db)
    data.insert_location(mongo.db, "loc-uptown", "America/Chicago")
    data.insert_location(mongo.db, "loc-south", "Europe/Madrid", tenant_id=data.OTHER_TENANT)
    yield mongo
    mongo.close()


@pytest.fixture
def db(mongo) -> Database:
    return mongo.db


@pytest.fixture
def worker_deps(planning_settings, mongo) -> bootstrap.Deps:
    """What the worker's handlers use (its caches, the real clock)."""
    return bootstrap.build(planning_settings, mongo, cache_ttl_s=bootstrap.WORKER_CACHE_TTL_S)


@pytest.fixture
def deliver(worker_deps):
    """Hand an event to planning's handler for its type; returns what the handler returned."""
    handlers = consumers.handlers(worker_deps)

    def send(event: Event) -> bool:
        return handlers[event.type](event)

    return send


@pytest.fixture
def client(planning_settings, db):
    names = ("mongo_url", "mongo_db", "amqp_url")
    app = create_app({name: getattr(planning_settings, name) for name in names})
    clear_cache()
    return app.test_client()


@pytest.fixture
def keys(db) -> SimpleNamespace:
    return SimpleNamespace(
        admin=data.insert_key(db, "admin"),
        therapist=data.insert_key(db, "therapist"),
        front_desk=data.insert_key(db, "front_desk"),
        uptown_therapist=data.insert_key(db, "therapist", locations=["loc-uptown"]),
        other_admin=data.insert_key(db, "admin", tenant_id=data.OTHER_TENANT),
    )
