"""Reads what the services' MongoDB command logs captured (`shared.command_log`) and counts it.

Each service process writes `<service>-<pid>.jsonl` under the capture directory; a command is
counted in a time window by the time it was sent. Kinds: insert, update (update and
findAndModify), delete, find (find, getMore, count, aggregate, distinct) and other (index
management, ping, sessions).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("insert", "update", "delete", "find", "other")
KIND_OF = {
    "insert": "insert",
    "update": "update",
    "findAndModify": "update",
    "delete": "delete",
    "find": "find",
    "getMore": "find",
    "count": "find",
    "aggregate": "find",
    "distinct": "find",
}
WRITES = ("insert", "update", "delete")


@dataclass(frozen=True)
class Command:
    t: float
    service: str
    db: str
    collection: str | None
    name: str
    n: int
    shapes: tuple[dict[str, Any], ...]
    example: dict[str, Any] | None = field(default=None, compare=False)
    by_test: bool = False

    @property
    def kind(self) -> str:
        return KIND_OF.get(self.name, "other")


def read(directory: Path) -> list[Command]:
    commands = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            commands.append(
                Command(
                    t=record["t"],
                    service=record["service"],
                    db=record["db"],
                    collection=record.get("collection"),
                    name=record["command"],
                    n=record.get("n", 1),
                    shapes=tuple(record.get("shapes", ())),
                    example=record.get("example"),
                    by_test=record.get("by_test", False),
                )
            )
    return sorted(commands, key=lambda c: c.t)


def within(commands: list[Command], start: float, end: float) -> list[Command]:
    return [c for c in commands if start <= c.t < end]


def by_kind(commands: list[Command]) -> dict[str, dict[str, int]]:
    """Commands (round trips) by service and kind, with a `total` service."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for command in commands:
        counts[command.service][command.kind] += 1
        counts["total"][command.kind] += 1
    return {service: {kind: counts[service][kind] for kind in KINDS} for service in counts}


def written_documents(commands: list[Command]) -> dict[str, int]:
    """Write statements (documents inserted, update and delete statements) by service and total."""
    counts: Counter[str] = Counter()
    for command in commands:
        if command.kind in WRITES:
            counts[command.service] += command.n
            counts["total"] += command.n
    return dict(counts)


def by_collection(commands: list[Command], kinds: tuple[str, ...]) -> dict[str, int]:
    """`service.collection command [filter fields]` -> statements (writes) or commands (reads):
    where the work goes."""
    counts: Counter[str] = Counter()
    for command in commands:
        if command.kind not in kinds:
            continue
        fields = sorted(command.shapes[0]["filter"]) if command.shapes else []
        label = f"{command.service}.{command.collection} {command.name}"
        counts[f"{label} {fields}" if fields else label] += (
            command.n if command.kind in WRITES else 1
        )
    return dict(sorted(counts.items()))


def per(counts: dict[str, Any], divisor: float, digits: int = 2) -> dict[str, Any]:
    """Every number in a (nested) dict divided by `divisor`."""
    out: dict[str, Any] = {}
    for key, value in counts.items():
        if isinstance(value, dict):
            out[key] = per(value, divisor, digits)
        else:
            out[key] = round(value / divisor, digits) if divisor else None
    return out
