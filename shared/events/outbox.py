"""Transactional outbox, write side: pending events live inside the aggregate's own document.

A service saves a state change and the events it causes in ONE write:

    collection.insert_one({**document, **outbox.pending(events)})
    collection.update_one(filter, outbox.with_events({"$set": {...}}, events))

The relay (`shared.events.relay`) publishes them with confirms and removes them. Fields used:
`outbox` (the pending events, in order), `outbox_due` (when the relay should next look; absent
when nothing is pending; indexed, sparse) and `outbox_seq` (counts events ever added, so the
relay can tell whether more arrived while it was publishing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, IndexModel

from shared.events.envelope import Event
from shared.events.topology import events_exchange

PUBLISH_PROPERTIES = frozenset({"correlation_id", "reply_to"})
"""AMQP properties an event may carry beyond those the publisher sets itself (message_id,
content type, persistence): e.g. a status event's `correlation_id`, the message it answers."""


@dataclass(frozen=True)
class Outgoing:
    """An event and where to publish it (by default: the service's exchange, keyed by type),
    with the AMQP `properties` (of `PUBLISH_PROPERTIES`) to publish it with."""

    event: Event
    exchange: str
    routing_key: str
    properties: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if unknown := set(self.properties) - PUBLISH_PROPERTIES:
            raise ValueError(f"not a publish property of an event: {', '.join(sorted(unknown))}")

    def to_document(self) -> dict[str, Any]:
        document = {
            "id": self.event.id,
            "exchange": self.exchange,
            "routing_key": self.routing_key,
            "event": self.event.to_dict(),
        }
        if self.properties:
            document["properties"] = dict(self.properties)
        return document


def to_exchange_of(service: str, event: Event) -> Outgoing:
    return Outgoing(event, events_exchange(service), event.type)


def pending(events: Sequence[Outgoing], now: datetime | None = None) -> dict[str, Any]:
    """Fields to include in a new document so that its events are published."""
    if not events:
        return {}
    return {
        "outbox": [e.to_document() for e in events],
        "outbox_due": now or datetime.now(UTC),
        "outbox_seq": len(events),
    }


def with_events(
    update: dict[str, Any], events: Sequence[Outgoing], now: datetime | None = None
) -> dict[str, Any]:
    """Merge the outbox fields into an update document (the same single write as the state change)."""
    if not events:
        return update
    merged = {op: dict(fields) for op, fields in update.items()}
    merged.setdefault("$push", {})["outbox"] = {"$each": [e.to_document() for e in events]}
    merged.setdefault("$set", {})["outbox_due"] = now or datetime.now(UTC)
    merged.setdefault("$inc", {})["outbox_seq"] = len(events)
    return merged


OUTBOX_INDEX = IndexModel([("outbox_due", ASCENDING)], name="outbox_due", sparse=True)
