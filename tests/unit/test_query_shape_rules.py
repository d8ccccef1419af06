"""The rules that match a captured query shape (shared/command_log.py) with the index that serves
it, and a sort with the index that returns it in order (tools/bench/indexes.py)."""

from __future__ import annotations

import re

import pytest
from bson.regex import Regex

from shared.command_log import shape_of
from tools.bench.indexes import Index, best_index, serves_sort

TENANT_STATUS = Index("tenant_status", ("tenant_id", "status", "created_at"))
DUE = Index("outbox_due", ("outbox_due",), sparse=True)
PARTIAL = Index("session", ("tenant_id", "session_id"), partial=("session_id",))
ID = Index("_id_", ("_id",))


@pytest.mark.parametrize(
    ("shape", "indexes", "expected"),
    [
        ({"_id": "?"}, [ID], ("_id_", 1)),
        ({"tenant_id": "?", "status": {"$in": "?"}}, [ID, TENANT_STATUS], ("tenant_status", 2)),
        ({"status": "?"}, [ID, TENANT_STATUS], None),  # not the index's first key
        ({"tenant_id": {"$ne": "?"}}, [TENANT_STATUS], None),  # $ne bounds nothing
        ({"outbox_due": {"$lte": "?"}}, [DUE], ("outbox_due", 1)),
        ({"outbox_due": None}, [DUE], None),  # a sparse index has no missing fields
        ({"outbox_due": {"$exists": False}}, [DUE], None),
        ({"tenant_id": "?", "session_id": "?"}, [PARTIAL], ("session", 2)),
        ({"tenant_id": "?"}, [PARTIAL], None),  # the partial filter is not implied
        (
            {"$or": [{"_id": "?"}, {"tenant_id": "?"}]},
            [ID, TENANT_STATUS],
            ("_id_ | tenant_status", 1),
        ),
        ({"$or": [{"_id": "?"}, {"status": "?"}]}, [ID, TENANT_STATUS], None),
        ({}, [ID, TENANT_STATUS], None),  # a full scan
    ],
)
def test_a_query_shape_is_matched_with_the_index_that_serves_it(shape, indexes, expected):
    assert best_index(shape, indexes) == expected


NAME = Index("tenant_name", ("tenant_id", "name"))


@pytest.mark.parametrize(
    ("condition", "shape", "bounded"),
    [
        ({"$regex": "^alv"}, {"$regex": "^?"}, True),
        (re.compile("^alv"), {"$regex": "^?"}, True),
        (Regex("^alv"), {"$regex": "^?"}, True),
        ({"$regex": "^alv", "$options": "i"}, {"$regex": "?"}, False),  # every key read
        (re.compile("^alv", re.IGNORECASE), {"$regex": "?"}, False),
        ({"$regex": "alv"}, {"$regex": "?"}, False),  # not anchored
        ({"$regex": "^.*alv"}, {"$regex": "?"}, False),
    ],
)
def test_only_an_anchored_case_sensitive_regex_bounds_an_index(condition, shape, bounded):
    captured = shape_of({"tenant_id": "t1", "name": condition})
    assert captured == {"tenant_id": "?", "name": shape}
    assert best_index(captured, [NAME]) == ("tenant_name", 2 if bounded else 1)


CREATED = Index("tenant_status_created", ("tenant_id", "status", "created_at"))
CREATED_ID = Index("tenant_status_created_id", ("tenant_id", "status", "created_at", "_id"))


@pytest.mark.parametrize(
    ("shape", "sort", "index", "served"),
    [
        ({"tenant_id": "?", "status": "?"}, ("created_at",), CREATED, True),
        ({"tenant_id": "?", "status": {"$in": "?"}}, ("created_at",), CREATED, True),
        ({"tenant_id": "?"}, ("created_at",), CREATED, False),  # status not fixed: out of order
        ({"tenant_id": "?", "status": "?"}, ("created_at", "_id"), CREATED, False),  # no _id
        ({"tenant_id": "?", "status": "?"}, ("created_at", "_id"), CREATED_ID, True),
        ({"tenant_id": "?", "status": "?"}, ("status", "created_at"), CREATED, True),  # fixed
        ({"tenant_id": "?", "status": "?"}, ("_id",), CREATED, False),
        ({"tenant_id": "?"}, ("status",), CREATED, True),
    ],
)
def test_a_sort_is_served_by_an_index_whose_next_keys_follow_the_fixed_ones(
    shape, sort, index, served
):
    assert serves_sort(index, shape, sort) is served
