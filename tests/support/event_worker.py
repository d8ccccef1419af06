"""A worker built only from the shared event machinery, for the reliability tests.

    TEST_ROLE=relay    python -m tests.support.event_worker   # service "intake": relays `sources`
    TEST_ROLE=consumer python -m tests.support.event_worker   # service "planning": applies effects

The consumer applies `test.happened` events to `effects` documents (one guarded update each).
Event data may ask it to misbehave: `poison` (always raises), `fail_times` (raises until that
many attempts were made), `block_after_effect` (writes its effect, records `blocked`, then waits
to be killed), `slow_ms` (a long handler, for SIGTERM).
"""

from __future__ import annotations

import os
import sys
import time

from shared.config import Settings
from shared.events import Event, apply_once, event_components, subscribe
from shared.mongo import Mongo
from shared.worker import Component, run_worker

ROLE = os.environ.get("TEST_ROLE", "consumer")
EVENT_TYPE = "test.happened"


def make_handler(mongo: Mongo):
    def on_happened(event: Event) -> bool:
        data = event.data
        if data.get("poison"):
            raise RuntimeError("poisoned event")
        if data.get("fail_times"):
            attempts = mongo.db.attempts.find_one_and_update(
                {"_id": event.id}, {"$inc": {"n": 1}}, upsert=True, return_document=True
            )
            if attempts["n"] <= data["fail_times"]:
                raise RuntimeError(f"failing attempt {attempts['n']}")
        if data.get("slow_ms"):
            mongo.db.markers.insert_one({"_id": event.id, "started": True, "pid": os.getpid()})
            time.sleep(data["slow_ms"] / 1000)  # simulated work inside a handler (SIGTERM test)
        applied = apply_once(
            mongo.db.effects, {"_id": data["target"]}, {"$inc": {"count": 1}}, event
        )
        if applied and data.get("block_after_effect"):
            mongo.db.markers.insert_one({"_id": event.id, "blocked": True, "pid": os.getpid()})
            while True:  # effect written, not acked: wait here to be killed
                time.sleep(0.1)
        return applied

    return on_happened


def components(settings: Settings, mongo: Mongo) -> list[Component]:
    if ROLE == "relay":
        return event_components(settings, mongo, outbox_collections=["sources"])
    subscription = subscribe(
        settings, "test-effects", [("intake.events", "test.#")], {EVENT_TYPE: make_handler(mongo)}
    )
    return event_components(settings, mongo, subscriptions=[subscription])


if __name__ == "__main__":
    sys.exit(run_worker("intake" if ROLE == "relay" else "planning", components))
