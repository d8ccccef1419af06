"""The event machinery's round trips, counted: the relay marks a whole poll's documents in one
command and does not poll again at once; a consumer wakes the relay only when its handlers may
have saved events. (Figures for the whole loop: `make bench`, docs/benchmark.md.)"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from shared.events import new_event, outbox, subscribe
from shared.events.consumer import EventConsumer
from shared.events.publisher import ConfirmedPublisher, PublishFailed
from shared.events.relay import OutboxRelay
from shared.mongo import Mongo
from testkit.mongo_commands import CommandCapture
from testkit.waiting import wait_until


class FakePublisher:
    """Confirms everything; `during` runs before a chosen event is confirmed (a concurrent write)."""

    def __init__(self, during: dict | None = None) -> None:
        self.published: list[str] = []
        self.during = during or {}

    def publish(self, exchange, routing_key, body, *, message_id, **_) -> None:
        if message_id in self.during:
            self.during.pop(message_id)()
        self.published.append(message_id)

    def close(self) -> None:
        pass


def event(n: int) -> outbox.Outgoing:
    made = new_event("test.happened", source="clinic/test", tenant_id="t1", data={"n": n})
    return outbox.to_exchange_of("intake", made)


@pytest.fixture
def counted(make_settings):
    commands = CommandCapture()
    mongo = Mongo(make_settings("intake"), [commands])
    yield mongo.db.sources, commands
    mongo.close()


def pending_documents(collection, count: int) -> list[outbox.Outgoing]:
    events = [event(i) for i in range(count)]
    collection.insert_many([{"_id": f"s{i}", **outbox.pending([e])} for i, e in enumerate(events)])
    return events


def test_the_relay_marks_every_document_of_a_poll_in_one_command(counted):
    collection, commands = counted
    events = pending_documents(collection, 3)
    publisher = FakePublisher()
    relay = OutboxRelay([collection], lambda: publisher)
    commands.clear()

    assert relay.relay_once() is True

    assert publisher.published == [e.event.id for e in events]
    assert commands.counts == Counter({"find": 1, "update": 1})
    assert collection.count_documents({"outbox_due": {"$exists": True}}) == 0
    assert [d["outbox"] for d in collection.find()] == [[], [], []]


def test_an_event_saved_while_the_relay_publishes_stays_pending_and_due(counted):
    collection, _ = counted
    events = pending_documents(collection, 2)
    late = event(99)

    def concurrent_write() -> None:
        collection.update_one({"_id": "s0"}, outbox.with_events({"$set": {"x": 1}}, [late]))

    relay = OutboxRelay([collection], lambda: FakePublisher({events[0].event.id: concurrent_write}))
    relay.relay_once()

    s0, s1 = collection.find_one({"_id": "s0"}), collection.find_one({"_id": "s1"})
    assert [item["id"] for item in s0["outbox"]] == [late.event.id] and "outbox_due" in s0
    assert s1["outbox"] == [] and "outbox_due" not in s1


def test_after_a_poll_the_relay_waits_for_a_wake_or_its_interval(counted):
    collection, commands = counted
    pending_documents(collection, 2)
    relay = OutboxRelay([collection], FakePublisher, poll_interval_s=30)
    commands.clear()
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: commands.counts["update"] == 1, message="the first poll marked")
        time.sleep(0.5)  # a window in which an eager relay would have polled again
        assert commands.counts["find"] == 1
        relay.wake()
        wait_until(lambda: commands.counts["find"] == 2, message="a poll after the wake")
    finally:
        stop.set()
        relay.wake()
        thread.join(timeout=10)


@pytest.mark.parametrize(("wakes_relay", "wakes"), [(True, 1), (False, 0)])
def test_a_consumer_wakes_the_relay_only_for_handlers_that_may_save_events(
    make_settings, wakes_relay, wakes
):
    settings = make_settings("planning")
    handled = threading.Event()

    def on_happened(_event) -> bool:
        handled.set()
        return True

    bindings = [("intake.events", "test.#")]
    sub = subscribe(
        settings, "lean", bindings, {"test.happened": on_happened}, wakes_relay=wakes_relay
    )
    woken: list[int] = []
    consumer = EventConsumer(settings, [sub], on_handled=lambda: woken.append(1))
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    publisher = ConfirmedPublisher(settings)
    message = event(1).event
    try:
        wait_until(lambda: _routed(publisher, message), message="the event routed to the queue")
        wait_until(handled.is_set, message="the event handled")
    finally:
        publisher.close()
        stop.set()
        thread.join(timeout=10)  # the consumer finishes (acks, wakes or not) before it stops
    assert len(woken) == wakes


def _routed(publisher: ConfirmedPublisher, message) -> bool:
    """Publish once the consumer's queue is bound (before that: no exchange, or NO_ROUTE)."""
    try:
        publisher.publish("intake.events", message.type, message.to_json(), message_id=message.id)
    except PublishFailed:
        return False
    return True


def test_a_retry_the_broker_does_not_confirm_leaves_the_message_unacked_and_the_consumer_running(
    make_settings,
):
    """A handler fails while the broker cannot take its retry (stopped, full): the consumer
    neither acks the message nor dies; it reconnects, gets the message again and handles it."""
    settings = make_settings("planning")
    attempts: list[bool] = []
    handled = threading.Event()

    def on_happened(_event) -> bool:
        attempts.append(True)
        if len(attempts) == 1:
            raise RuntimeError("the store said no")
        handled.set()
        return True

    sub = subscribe(settings, "lean", [("intake.events", "test.#")], {"test.happened": on_happened})
    consumer = EventConsumer(settings, [sub])
    consumer._publisher = ConfirmedPublisher(settings, amqp_url="amqp://guest:guest@127.0.0.1:1//")
    stop = threading.Event()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            consumer.run(stop)
        except BaseException as error:  # the fault this test is about
            failed.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    publisher = ConfirmedPublisher(settings)
    message = event(1).event
    try:
        wait_until(lambda: _routed(publisher, message), message="the event routed to the queue")
        wait_until(lambda: handled.is_set() or failed, timeout=30, message="the event handled")
    finally:
        publisher.close()
        stop.set()
        thread.join(timeout=10)
    assert not failed, failed
    assert len(attempts) == 2  # the failed try, then the redelivery (no retry was published)
