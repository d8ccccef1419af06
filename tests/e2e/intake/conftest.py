"""Fixtures of intake's process tests: an intake world with one clinic (on the session's store;
a test module with a store of its own overrides `world`), and a partner allowed to refer to it."""

from __future__ import annotations

import pymongo
import pytest

from testkit.partner import PartnerSystem
from tests.support.intake_world import World


@pytest.fixture
def world(mongo_url, mongo_db_name):
    client = pymongo.MongoClient(mongo_url, tz_aware=True)
    world = World(client[f"{mongo_db_name}_intake"])
    world.tenant("clinic-a")
    yield world
    client.close()


@pytest.fixture
def partner(world, rabbit_admin, vhost):
    system = PartnerSystem(rabbit_admin, vhost)
    world.partner(system.partner_id, ["clinic-a"])
    yield system
    system.close()
