"""`make test-docker` only: every query shape the whole loop sends, explained by real MongoDB 7.

The short benchmark (`python -m tools.bench`) runs the loop against docker-compose's MongoDB and
RabbitMQ and keeps one example of each query shape with its values; each is then explained
(`queryPlanner`) and must not scan the collection. The benchmark's own matching of shapes with
indexes (tools/bench/indexes.py) is a simplification of the planner's rules; this is the
planner itself. Runs under `make test-docker` only (it needs the compose file's MongoDB 7).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bson import json_util
from pymongo import MongoClient

from testkit import rabbit

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "planning", "notifications", "bare")
MARK = {"$set": {"_explained": True}}  # explain never applies it

pytestmark = pytest.mark.docker  # selected by `make test-docker` only (see pyproject.toml)


def explain_command(example: dict[str, Any]) -> dict[str, Any]:
    """The command to explain for a captured (collection, command, filter, sort)."""
    name, query = example["collection"], json_util.loads(json.dumps(example["filter"] or {}))
    sort = {field: 1 for field in example["sort"]} or None
    match example["command"]:
        case "find":
            return {"find": name, "filter": query, **({"sort": sort} if sort else {})}
        case "count" | "aggregate":
            return {"aggregate": name, "pipeline": [{"$match": query}], "cursor": {}}
        case "distinct":
            return {"distinct": name, "key": "_id", "query": query}
        case "update":
            return {"update": name, "updates": [{"q": query, "u": MARK}]}
        case "delete":
            return {"delete": name, "deletes": [{"q": query, "limit": 0}]}
        case "findAndModify":
            return {
                "findAndModify": name,
                "query": query,
                "update": MARK,
                **({"sort": sort} if sort else {}),
            }
    raise ValueError(f"no explain for {example['command']}")


def stages(plan: Any) -> Iterator[str]:
    """Every stage name anywhere in an explained plan (classic or slot-based)."""
    if isinstance(plan, dict):
        if isinstance(plan.get("stage"), str):
            yield plan["stage"]
        for value in plan.values():
            yield from stages(value)
    elif isinstance(plan, list):
        for item in plan:
            yield from stages(item)


@pytest.fixture
def captured(mongo_url, tmp_path) -> Iterator[tuple[MongoClient, list[dict[str, Any]]]]:
    run_dir = tmp_path / "run"
    env = {
        **os.environ,
        "RABBITMQ_MANAGEMENT_URL": rabbit.MANAGEMENT_URL,
        "TEST_AMQP_BASE": rabbit.AMQP_BASE,
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.bench",
            "--short",
            "--mongo-url",
            mongo_url,
            "--keep-databases",
            "--run-dir",
            str(run_dir),
            "--out",
            str(tmp_path / "bench.json"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert (run_dir / "query_examples.json").exists(), result.stderr[-6000:]
    report = json.loads((tmp_path / "bench.json").read_text())
    client = MongoClient(mongo_url)
    try:
        yield client, json.loads((run_dir / "query_examples.json").read_text())
    finally:
        prefix = report["databases"].removesuffix("_*")
        for service in SERVICES:
            client.drop_database(f"{prefix}_{service}")
        client.close()


def test_every_query_shape_of_the_loop_uses_an_index_on_real_mongodb(captured):
    client, examples = captured
    assert len(examples) >= 20
    scans = []
    for example in examples:
        if example["whole_collection_read"]:
            continue  # a small collection read whole on purpose (see tools/bench/indexes.py)
        explained = client[example["db"]].command(
            "explain", explain_command(example), verbosity="queryPlanner"
        )
        found = set(stages(explained["queryPlanner"]["winningPlan"]))
        if "COLLSCAN" in found:
            scans.append(
                f"{example['db']}.{example['collection']} {example['command']} "
                f"{example['filter']} -> {sorted(found)}"
            )
    assert not scans, "\n".join(scans)
