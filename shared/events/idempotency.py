"""Apply an event's effect once, in the same write as the effect.

- `apply_once`: a guarded update on the aggregate: it matches only if the event's key is not in
  the document's `applied_events` (the last KEEP keys), and records the key in the same update.
- `insert_once`: a new document whose `_id` (or another unique field) is derived from the event;
  a duplicate key means the event was already applied.

Both return True when the effect happened now, False for a duplicate (counted in metrics).
"""

from __future__ import annotations

from typing import Any

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from shared.events.envelope import Event

KEEP = 50
APPLIED_FIELD = "applied_events"


class Duplicate(Exception):
    """Raised by a handler (or these helpers' callers) to say: already applied, ack and move on."""


def apply_once(
    collection: Collection, filter: dict[str, Any], update: dict[str, Any], event: Event
) -> bool:
    guarded = {**filter, APPLIED_FIELD: {"$ne": event.key}}
    merged = {op: dict(fields) for op, fields in update.items()}
    merged.setdefault("$push", {})[APPLIED_FIELD] = {"$each": [event.key], "$slice": -KEEP}
    return collection.update_one(guarded, merged).matched_count == 1


def insert_once(collection: Collection, document: dict[str, Any], event: Event) -> bool:
    document = {**document, APPLIED_FIELD: [event.key]}
    try:
        collection.insert_one(document)
    except DuplicateKeyError:
        return False
    return True
