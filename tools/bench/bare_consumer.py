"""The bare hop the benchmark compares the project with: the least work a hop can do.

    python -m tools.bench.bare_consumer --amqp-url URL --mongo-url URL --db NAME --report-at 20,520 \
        [--prefetch 1] [--heartbeat 20]

Takes one event from its queue, does one update (pymongo, write concern majority, as the
services), publishes one event with confirms (kombu, on its own connection, persistent and
mandatory, as the relay), then acks; with the services' prefetch and heartbeats unless told
otherwise (the old method: `--prefetch 10 --heartbeat 0`). No framework, no envelope checks, no outbox, no dedup.
Prints `ready` once consuming and `handled <n>` when n reaches each `--report-at` value, then
keeps running (idle) until SIGTERM, so its CPU can be read from outside.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading

from kombu import Connection, Consumer, Exchange, Producer, Queue
from pymongo import MongoClient
from pymongo.write_concern import WriteConcern

EXCHANGE = Exchange("bench.bare", "topic", durable=True)


def quorum_queue(direction: str) -> Queue:
    return Queue(
        f"bench.bare.{direction}",
        EXCHANGE,
        routing_key=f"bare.{direction}",
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )


IN, OUT = quorum_queue("in"), quorum_queue("out")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--amqp-url", required=True)
    parser.add_argument("--mongo-url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--report-at", required=True, help="comma-separated counts to report at")
    parser.add_argument("--prefetch", type=int, default=1, help="as the services' consumers")
    parser.add_argument("--heartbeat", type=int, default=20, help="s, as AMQP_HEARTBEAT_S; 0: off")
    args = parser.parse_args()
    report_at = {int(n) for n in args.report_at.split(",")}
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    collection = MongoClient(args.mongo_url).get_database(
        args.db, write_concern=WriteConcern("majority", wtimeout=5000)
    )["bare"]
    handled = 0
    with (
        Connection(args.amqp_url, heartbeat=args.heartbeat) as consuming,
        Connection(args.amqp_url, transport_options={"confirm_publish": True}) as publishing,
    ):
        channel = consuming.channel()
        IN(channel).declare()
        OUT(channel).declare()
        producer = Producer(publishing.channel())

        def on_message(body: bytes, message) -> None:
            nonlocal handled
            event = json.loads(message.body)
            collection.update_one(
                {"_id": event["target"]},
                {"$inc": {"n": 1}, "$set": {"last": event["id"]}},
                upsert=True,
            )
            out = json.dumps({"id": event["id"], "type": "bare.done"}).encode()
            producer.publish(
                out,
                exchange=EXCHANGE,
                routing_key="bare.out",
                delivery_mode=2,
                mandatory=True,
                timeout=5,
                message_id=event["id"],
            )
            message.ack()
            handled += 1
            if handled in report_at:
                print(f"handled {handled}", flush=True)

        consumer = Consumer(channel, [IN], callbacks=[on_message], prefetch_count=args.prefetch)
        consumer.consume()
        print("ready", flush=True)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                consuming.drain_events(timeout=1)
            if args.heartbeat:
                consuming.heartbeat_check()  # as the services' consumer loop
    return 0


if __name__ == "__main__":
    sys.exit(main())
