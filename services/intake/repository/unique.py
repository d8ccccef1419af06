"""Inserts guarded by a unique index: the backbone of intake's deduplication (see indexes.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pymongo.errors import DuplicateKeyError


def inserted(
    insert_one: Callable[[Mapping[str, Any]], object], document: Mapping[str, Any]
) -> bool:
    """Insert the document; False when one of its unique keys is taken already."""
    try:
        insert_one(document)
    except DuplicateKeyError:
        return False
    return True
