"""Every query shape the services sent in the integration and end-to-end suites (and the
benchmark) finds an index that bounds it, and a sorted query an index that returns it in order.

The shapes are kept in tests/query_shapes/*.json, written from a run of a suite with
`MONGO_COMMAND_LOG` on (tools/bench/shape_capture.py; docs/benchmark.md, "Query shapes"). The
indexes are the ones each service creates (`repository/indexes.py`'s `create_indexes`), on a
fresh database of the stand-in, read back with `list_indexes()`; the matching rules are
tools/bench/indexes.py's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pymongo
import pytest

from services.intake.repository.indexes import create_indexes as intake_indexes
from services.notifications.repository.indexes import create_indexes as notifications_indexes
from services.planning.repository.indexes import create_indexes as planning_indexes
from tools.bench.capture import Command
from tools.bench.indexes import declared_indexes, query_shapes

SHAPES = Path(__file__).resolve().parents[1] / "query_shapes"
TEST_COLLECTIONS = {"things", "sources"}
"""Collections of the shared machinery's own tests (test_tenant_scoped_writes,
test_events_machinery): no service has them."""
CREATE = {
    "intake": intake_indexes,
    "planning": planning_indexes,
    "notifications": notifications_indexes,
}


def recorded_shapes() -> list[dict[str, Any]]:
    return [
        record
        for path in sorted(SHAPES.glob("*.json"))
        for record in json.loads(path.read_text())
        if record["collection"] not in TEST_COLLECTIONS
    ]


def sort_key(use: Any) -> list[Any]:
    return [use.service, use.collection, use.command, use.filter, list(use.sort)]


@pytest.fixture(scope="module")
def uses(mongo_url: str) -> list:
    client = pymongo.MongoClient(mongo_url, serverSelectionTimeoutMS=5000)
    names = {service: f"t_shapes_{service}_{id(client)}" for service in CREATE}
    try:
        for service, create in CREATE.items():
            create(client[names[service]])
        indexes = declared_indexes(client, names.values())
        commands = [
            Command(
                t=0.0,
                service=r["service"],
                db=names.get(r["service"], r["service"]),
                collection=r["collection"],
                name=r["command"],
                n=r["seen"],
                shapes=({"filter": r["filter"], "sort": r["sort"]},),
            )
            for r in recorded_shapes()
        ]
        return query_shapes(commands, indexes)
    finally:
        for name in names.values():
            client.drop_database(name)
        client.close()


def test_the_suites_shapes_are_recorded():
    services = {r["service"] for r in recorded_shapes()}
    assert services >= set(CREATE), services
    assert len(recorded_shapes()) >= 50


def test_every_recorded_query_shape_has_an_index(uses):
    unindexed = [u.to_json() for u in uses if u.unindexed]
    assert unindexed == []


def test_no_sorted_query_is_sorted_in_memory(uses):
    in_memory = [sort_key(u) for u in uses if u.sort_in_memory]
    assert in_memory == []
