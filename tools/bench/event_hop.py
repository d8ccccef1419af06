"""Benchmark of one event hop, against bare kombu on the same broker, in the same run.

    .venv/bin/python -m tools.bench.event_hop [--events 500] [--memory]

Hop: a state change saved with its event (one MongoDB write, outbox folded in) -> relay publishes
with confirms -> consumer applies the effect once (guarded update) -> ack. Bare: kombu publish
with confirms, then consume and ack, of the same number of messages. Prints JSON: events/s of
each and their ratio, and MongoDB commands per event by command name (pymongo monitoring).
Starts its own MongoDB stand-in (SQLite, as `make run`, or in memory) and RabbitMQ vhost.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from kombu import Connection, Consumer, Exchange, Producer, Queue

from shared.config import load_settings
from shared.events import apply_once, event_components, new_event, outbox, subscribe
from shared.mongo import Mongo
from testkit import rabbit
from testkit.mongo import MongoStandin
from testkit.mongo_commands import CommandCapture
from testkit.rabbit import RabbitAdmin, amqp_url


def bare_hop(url: str, n: int) -> float:
    queue = Queue(
        "bench.bare",
        Exchange("bench.bare", "direct", durable=True),
        routing_key="bare",
        queue_arguments={"x-queue-type": "quorum"},
        durable=True,
        auto_delete=False,
    )
    with Connection(url, transport_options={"confirm_publish": True}) as conn:
        queue(conn.default_channel).declare()
        producer = Producer(conn.default_channel)
        received = 0

        def on_message(message) -> None:
            nonlocal received
            message.ack()
            received += 1

        started = time.perf_counter()
        for i in range(n):
            producer.publish(
                b'{"n":%d}' % i,
                exchange="bench.bare",
                routing_key="bare",
                delivery_mode=2,
                mandatory=True,
                timeout=5,
            )
        with (
            Connection(url) as consuming,
            Consumer(consuming.default_channel, [queue], on_message=on_message, prefetch_count=10),
        ):
            while received < n:
                consuming.drain_events(timeout=10)
        return n / (time.perf_counter() - started)


def project_hop(
    mongo_url: str, db: str, url: str, n: int, targets: int
) -> tuple[float, dict[str, float]]:
    listener = CommandCapture()
    source_settings = load_settings(
        "intake",
        environ={},
        overrides={
            "mongo_url": mongo_url,
            "mongo_db": f"{db}_intake",
            "amqp_url": url,
            "outbox_poll_interval_s": 0.05,
        },
    )
    effect_settings = load_settings(
        "planning",
        environ={},
        overrides={"mongo_url": mongo_url, "mongo_db": f"{db}_planning", "amqp_url": url},
    )
    source, effect = Mongo(source_settings, [listener]), Mongo(effect_settings, [listener])
    effect.db.effects.insert_many([{"_id": f"t{i}", "count": 0} for i in range(targets)])
    source.db.sources.insert_many([{"_id": f"s{i}", "version": 0} for i in range(targets)])

    def on_event(event) -> bool:
        return apply_once(
            effect.db.effects, {"_id": event.data["target"]}, {"$inc": {"count": 1}}, event
        )

    sub = subscribe(
        effect_settings, "bench", [("intake.events", "bench.#")], {"bench.happened": on_event}
    )
    stop = threading.Event()
    components = [
        *event_components(effect_settings, effect, subscriptions=[sub]),
        *event_components(source_settings, source, outbox_collections=["sources"]),
    ]
    threads = [threading.Thread(target=c.run, args=(stop,), daemon=True) for c in components]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # let the consumer attach before timing (a benchmark warm-up, not a test wait)
    listener.clear()
    started = time.perf_counter()
    for i in range(n):
        event = new_event(
            "bench.happened",
            source="clinic/bench",
            tenant_id="t",
            data={"target": f"t{i % targets}"},
        )
        source.db.sources.update_one(
            {"_id": f"s{i % targets}"},
            outbox.with_events({"$inc": {"version": 1}}, [outbox.to_exchange_of("intake", event)]),
        )
    while sum(d["count"] for d in effect.db.effects.find({}, {"count": 1})) < n:
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    counts = dict(listener.counts)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    polls = {"find": counts.get("find", 0)}
    per_event = {name: round(count / n, 2) for name, count in sorted(counts.items())}
    per_event["note"] = (
        f"find includes the benchmark's own progress polling ({polls['find']} finds in all)"
    )
    return n / elapsed, per_event


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument(
        "--memory", action="store_true", help="in-memory stand-in instead of SQLite"
    )
    args = parser.parse_args()
    admin = RabbitAdmin(rabbit.MANAGEMENT_URL)
    vhost = admin.create_vhost()
    with tempfile.TemporaryDirectory() as workdir:
        standin = MongoStandin(path=None if args.memory else Path(workdir) / "bench.sqlite")
        mongo_url = standin.url
        try:
            bare = bare_hop(amqp_url(vhost), args.events)
            hop, per_event = project_hop(
                mongo_url, "bench", amqp_url(vhost), args.events, targets=50
            )
        finally:
            standin.stop()
            admin.delete_vhost(vhost)
    print(
        json.dumps(
            {
                "events": args.events,
                "store": "mongoeco in memory" if args.memory else "mongoeco on SQLite",
                "bare_kombu_publish_confirm_consume_ack_per_s": round(bare, 1),
                "project_outbox_publish_consume_effect_per_s": round(hop, 1),
                "ratio_project_to_bare": round(hop / bare, 3),
                "mongo_commands_per_event": per_event,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
