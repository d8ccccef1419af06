"""Fixtures of the intake integration tests: the app, the database, a seeded world, the worker in threads."""

from __future__ import annotations

import threading

import pytest

from services.intake import worker
from services.intake.app import create_app
from services.intake.bootstrap import bootstrap
from shared.mongo import Mongo
from shared.web import auth
from testkit.event_tap import EventTap
from testkit.partner import PartnerSystem
from tests.support.intake_world import World


@pytest.fixture
def settings(make_settings):
    return make_settings("intake", outbox_poll_interval_s=0.05)


@pytest.fixture
def mongo(settings):
    handle = Mongo(settings)
    yield handle
    handle.close()


@pytest.fixture
def db(mongo):
    return mongo.db


@pytest.fixture
def deps(settings, mongo):
    """The use cases' dependencies, as the app and the worker build them."""
    return bootstrap(settings, mongo)


@pytest.fixture
def world(db):
    auth.clear_cache()
    world = World(db)
    world.tenant("clinic-a")
    world.tenant("clinic-b")
    return world


@pytest.fixture
def front_desk(world):
    """A front-desk key of clinic-a."""
    return world.key("clinic-a", "front_desk")


@pytest.fixture
def partner_key(world):
    """The key of partner acme-ehr, which may refer to clinic-a."""
    world.partner("acme-ehr", ["clinic-a"])
    return world.key("clinic-a", "partner", partner_id="acme-ehr")


@pytest.fixture
def app(settings, world):
    overrides = {k: getattr(settings, k) for k in ("mongo_url", "mongo_db", "amqp_url")}
    return create_app(overrides)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def internal_events(settings):
    """What planning and notifications would receive from intake (bound before the worker runs)."""
    sink = EventTap(settings.amqp_url, "intake.events")
    yield sink
    sink.close()


@pytest.fixture
def start_worker(settings, mongo, internal_events):
    """Start the intake worker's components in threads (call after seeding partners)."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start():
        components = worker.components(settings, mongo)
        for component in components:
            thread = threading.Thread(target=component.run, args=(stop,), daemon=True)
            thread.start()
            threads.append(thread)
        return components

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=30)


@pytest.fixture
def partner_system(rabbit_admin, vhost):
    made: list[PartnerSystem] = []

    def make(partner_id: str | None = None) -> PartnerSystem:
        made.append(PartnerSystem(rabbit_admin, vhost, partner_id))
        return made[-1]

    yield make
    for partner in made:
        partner.close()


@pytest.fixture
def partner(world, partner_system, start_worker):
    """A partner on the broker as its own user, allowed at clinic-a, with the worker running."""
    system = partner_system()
    world.partner(system.partner_id, ["clinic-a"])
    start_worker()
    return system
