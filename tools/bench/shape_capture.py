"""The query shapes a test run sent, kept in a file: what every query of the services must find
an index for (tests/integration/test_query_shapes_indexed.py checks each).

    MONGO_COMMAND_LOG=<directory> .venv/bin/python -m pytest tests/integration ...
    .venv/bin/python -m tools.bench.shape_capture <directory> --out tests/query_shapes/integration.json

`MONGO_COMMAND_LOG=<directory>` (shared/command_log.py) makes every service process, and the
services' parts inside a test process, write one JSON line per MongoDB command; this reads them
and writes the distinct (service, collection, command, filter shape, sort), sorted, with how
often each was seen. Commands a test sent itself (`by_test`: to look at what a service
stored) are left out; the database names (one per test) are left out. `--merge` keeps what the
file already holds (the shapes of another run).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tools.bench import capture
from tools.bench.indexes import QUERY_COMMANDS

Key = tuple[str, str, str, str, tuple[str, ...]]


def distinct_shapes(commands: list[capture.Command]) -> Counter[Key]:
    """(service, collection, command, filter JSON, sort) -> statements seen."""
    seen: Counter[Key] = Counter()
    for command in commands:
        if command.name not in QUERY_COMMANDS or not command.collection or command.by_test:
            continue
        for shape in command.shapes:
            filter_json = json.dumps(shape.get("filter", {}), sort_keys=True)
            sort = tuple(shape.get("sort") or ())
            seen[(command.service, command.collection, command.name, filter_json, sort)] += 1
    return seen


def as_records(seen: Counter[Key]) -> list[dict[str, Any]]:
    return [
        {
            "service": service,
            "collection": collection,
            "command": name,
            "filter": json.loads(filter_json),
            "sort": list(sort),
            "seen": n,
        }
        for (service, collection, name, filter_json, sort), n in sorted(seen.items())
    ]


def from_records(records: list[dict[str, Any]]) -> Counter[Key]:
    return Counter(
        {
            (
                r["service"],
                r["collection"],
                r["command"],
                json.dumps(r["filter"], sort_keys=True),
                tuple(r["sort"]),
            ): r["seen"]
            for r in records
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="+", type=Path, help="MONGO_COMMAND_LOG directories")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--merge", action="store_true", help="add to what --out holds")
    args = parser.parse_args(argv)
    seen: Counter[Key] = Counter()
    if args.merge and args.out.exists():
        seen.update(from_records(json.loads(args.out.read_text())))
    for directory in args.directories:
        seen.update(distinct_shapes(capture.read(directory)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(as_records(seen), indent=1) + "\n")
    print(f"{len(seen)} query shapes written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
