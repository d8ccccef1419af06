"""Drives the shared event machinery in tests: saves state changes with events, reads effects."""

from __future__ import annotations

from dataclasses import dataclass

import pymongo
from pymongo.database import Database

from shared.events import new_event, outbox

EVENT_TYPE = "test.happened"


@dataclass
class EventsHarness:
    mongo_url: str
    db_prefix: str

    def __post_init__(self) -> None:
        self.client = pymongo.MongoClient(self.mongo_url, tz_aware=True)

    @property
    def source_db(self) -> Database:
        return self.client[f"{self.db_prefix}_intake"]

    @property
    def effect_db(self) -> Database:
        return self.client[f"{self.db_prefix}_planning"]

    def make_targets(self, count: int) -> None:
        self.effect_db.effects.insert_many(
            [{"_id": f"target-{i}", "count": 0} for i in range(count)]
        )
        self.source_db.sources.insert_many(
            [{"_id": f"source-{i}", "version": 0} for i in range(count)]
        )

    def save_change(self, index: int, **data) -> str:
        """One state change of source `index` and the event it causes, in one write."""
        event = new_event(
            EVENT_TYPE,
            source="clinic/test",
            tenant_id="t1",
            data={"target": f"target-{index}", **data},
        )
        self.source_db.sources.update_one(
            {"_id": f"source-{index}"},
            outbox.with_events({"$inc": {"version": 1}}, [outbox.to_exchange_of("intake", event)]),
        )
        return event.id

    def total_effects(self) -> int:
        return sum(d["count"] for d in self.effect_db.effects.find({}, {"count": 1}))

    def pending_events(self) -> int:
        return sum(len(d.get("outbox", [])) for d in self.source_db.sources.find({}, {"outbox": 1}))

    def close(self) -> None:
        self.client.close()
