"""Matches each captured query shape with an index the collection declares (`list_indexes()`).

A shape is served by an index when the index's first key is a field the filter bounds
(equality, `$in`, a range, `$exists: true`, `$type`, `$elemMatch`, `$all`, a regular expression
anchored at the start and case-sensitive: `{"$regex": "^?"}` in the capture); the index with the
longest such prefix wins. A partial index also needs the filter to bound every field of its
`partialFilterExpression`; a sparse one cannot serve equality to null or `$exists: false`.
`$or` is served when each branch is. An empty filter is a full scan: unindexed. An unanchored or
case-insensitive `$regex` bounds nothing (every key of the index would be read).

A sort is served by an index that bounds the filter when, after index keys the filter fixes by
equality (or `$in`), the index's next keys are the sort's keys in order (sort keys the filter
fixes by equality are left out); otherwise the server sorts in memory (`sort_in_memory`).
Directions are not compared (the capture keeps the sort's keys only).

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

BOUNDING = {"$eq", "$in", "$gt", "$gte", "$lt", "$lte", "$elemMatch", "$all", "$type"}
EQUALITY = {"$eq", "$in"}
ANCHORED_REGEX = "^?"  # shared.command_log's shape of an anchored, case-sensitive pattern
WHOLE_COLLECTION_READS = {
    (
        "intake",
        "partners",
    ): "the intake worker declares every partner's status queue when it starts",
    (
        "intake",
        "tenants",
    ): "the intake API's start-up check of patients' search keys, tenant by tenant",
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
    if condition.get("$regex") == ANCHORED_REGEX:
        return True
    return bool(BOUNDING & set(condition))


def equality_fields(shape: Mapping[str, Any]) -> set[str]:
    """Fields the filter fixes to one value (or a few: `$in`): what a sort can skip over."""
    fields = {
        k
        for k, v in shape.items()
        if not k.startswith("$") and (not isinstance(v, dict) or (v and set(v) <= EQUALITY))
    }
    for branch in shape.get("$and", []):
        fields |= equality_fields(branch)
    return fields


def serves_sort(index: Index, shape: Mapping[str, Any], sort: tuple[str, ...]) -> bool:
    """Whether scanning `index` for `shape` returns the documents in `sort` order."""
    fixed = equality_fields(shape)
    wanted = [key for key in sort if key not in fixed]
    if not wanted:
        return True
    for start in range(len(index.keys)):
        if index.keys[start : start + len(wanted)] == tuple(wanted):
            return True
        if index.keys[start] not in fixed:
            return False
    return False


def sort_index(
    shape: Mapping[str, Any], sort: tuple[str, ...], indexes: Iterable[Index]
) -> str | None:
    """The name of an index that bounds the filter and serves the sort, or None."""
    if "$or" in shape:
        return None  # each branch its own scan: a merge sort at best; not claimed
    candidates = list(indexes)
    for index in candidates:
        found = best_index(shape, [index])
        if found and serves_sort(index, shape, sort):
            return index.name
    return None


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
    sort_index: str | None = None

    @property
    def unindexed(self) -> bool:
        return self.index is None and self.whole_collection_read is None

    @property
    def sort_in_memory(self) -> bool:
        """A sorted query no index returns in order (the server sorts what it found)."""
        return bool(self.sort) and self.sort_index is None and not self.unindexed

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
            **({"sort_index": self.sort_index} if self.sort else {}),
            **({"sort_in_memory": True} if self.sort_in_memory else {}),
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
        declared = indexes.get((db, collection)) or [ID_INDEX]
        found = best_index(filter_shape, declared)
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
                sort_index=sort_index(filter_shape, sort, declared) if sort else None,
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
