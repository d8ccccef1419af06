"""Matches each captured query shape with an index the collection declares (`list_indexes()`).

A shape is served by an index when the index's first key is a field the filter bounds
(equality, `$in`, a range, `$exists: true`, `$type`, `$elemMatch`, `$all`); the index with the
longest such prefix wins. A partial index also needs the filter to bound every field of its
`partialFilterExpression`; a sparse one cannot serve equality to null or `$exists: false`.
`$or` is served when each branch is. An empty filter is a full scan: unindexed.

This is the rule MongoDB's planner follows for index eligibility, simplified; `explain` on real
MongoDB (tests/integration/test_query_shapes_explain.py, `make test-docker`) is the final word.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tools.bench.capture import Command

BOUNDING = {"$eq", "$in", "$gt", "$gte", "$lt", "$lte", "$elemMatch", "$all", "$type", "$regex"}
WHOLE_COLLECTION_READS = {
    (
        "intake",
        "partners",
    ): "the intake worker declares every partner's status queue when it starts",
}
"""Reads of a whole (small, configuration) collection, on purpose: no index could narrow them."""
ID_INDEX_NAME = "_id_"
QUERY_COMMANDS = {"find", "count", "distinct", "aggregate", "findAndModify", "update", "delete"}


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    sparse: bool = False
    partial: tuple[str, ...] = ()

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Index:
        partial = spec.get("partialFilterExpression") or {}
        return cls(spec["name"], tuple(spec["key"]), bool(spec.get("sparse")), tuple(partial))


ID_INDEX = Index(ID_INDEX_NAME, ("_id",))
"""Every collection has it, even one not created yet (whose queries find nothing at once)."""


def _bounds(condition: Any, sparse: bool) -> bool:
    """Whether a field's condition can bound a scan of an index on that field."""
    if condition is None:
        return not sparse  # equality to null: missing fields are not in a sparse index
    if not isinstance(condition, dict):
        return True  # equality to a (hidden) value
    if condition.get("$exists") is True:
        return True
    return bool(BOUNDING & set(condition))


def bounded_fields(shape: Mapping[str, Any], sparse: bool = False) -> set[str]:
    fields = {k for k, v in shape.items() if not k.startswith("$") and _bounds(v, sparse)}
    for branch in shape.get("$and", []):
        fields |= bounded_fields(branch, sparse)
    return fields


def best_index(shape: Mapping[str, Any], indexes: Iterable[Index]) -> tuple[str, int] | None:
    """(index name, number of leading keys the filter bounds) of the best index, or None."""
    if "$or" in shape:
        rest = {k: v for k, v in shape.items() if k != "$or"}
        picks = [best_index({**rest, **branch}, indexes) for branch in shape["$or"]]
        if any(p is None for p in picks):
            return None
        return " | ".join(sorted({p[0] for p in picks if p})), min(p[1] for p in picks if p)
    best: tuple[str, int] | None = None
    for index in indexes:
        fields = bounded_fields(shape, index.sparse)
        if not set(index.partial) <= bounded_fields(shape):
            continue
        prefix = 0
        while prefix < len(index.keys) and index.keys[prefix] in fields:
            prefix += 1
        if prefix and (best is None or prefix > best[1]):
            best = (index.name, prefix)
    return best


@dataclass(frozen=True)
class ShapeUse:
    service: str
    db: str
    collection: str
    command: str
    filter: str
    sort: tuple[str, ...]
    count: int
    index: str | None
    prefix: int
    example: Any
    whole_collection_read: str | None = None

    @property
    def unindexed(self) -> bool:
        return self.index is None and self.whole_collection_read is None

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "collection": f"{self.db}.{self.collection}",
            "command": self.command,
            "filter": self.filter,
            "sort": list(self.sort),
            "count": self.count,
            "index": self.index,
            "index_keys_used": self.prefix,
            **(
                {"whole_collection_read": self.whole_collection_read}
                if self.whole_collection_read
                else {}
            ),
        }


def _key(shape: Mapping[str, Any]) -> str:
    return json.dumps(shape.get("filter", {}), sort_keys=True, separators=(",", ":"))


def query_shapes(
    commands: Iterable[Command], indexes: Mapping[tuple[str, str], list[Index]]
) -> list[ShapeUse]:
    """Every distinct (collection, command, filter shape, sort) with its count and best index."""
    counts: Counter[tuple] = Counter()
    examples: dict[tuple, Any] = {}
    for command in commands:
        if command.name not in QUERY_COMMANDS or not command.collection:
            continue
        for shape in command.shapes:
            key = (
                command.service,
                command.db,
                command.collection,
                command.name,
                _key(shape),
                tuple(shape.get("sort") or ()),
            )
            counts[key] += 1
            if command.example is not None:
                examples.setdefault(key, command.example)
    uses = []
    for key, count in sorted(counts.items()):
        service, db, collection, name, filter_json, sort = key
        filter_shape = json.loads(filter_json)
        found = best_index(filter_shape, indexes.get((db, collection)) or [ID_INDEX])
        by_design = WHOLE_COLLECTION_READS.get((service, collection)) if not filter_shape else None
        uses.append(
            ShapeUse(
                service=service,
                db=db,
                collection=collection,
                command=name,
                filter=filter_json,
                sort=sort,
                count=count,
                index=found[0] if found else None,
                prefix=found[1] if found else 0,
                example=examples.get(key),
                whole_collection_read=by_design,
            )
        )
    return uses


def declared_indexes(client: Any, databases: Iterable[str]) -> dict[tuple[str, str], list[Index]]:
    """`list_indexes()` of every collection of these databases, as `Index` values."""
    found: dict[tuple[str, str], list[Index]] = {}
    for name in databases:
        db = client[name]
        for collection in db.list_collection_names():
            specs = db[collection].list_indexes()
            found[(name, collection)] = [Index.from_spec(spec) for spec in specs]
    return found
