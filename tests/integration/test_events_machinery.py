"""The event machinery in one process against the real RabbitMQ and MongoDB: topology, publisher,
relay and consumer (threads), dead-lettering with reasons."""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest
from kombu import Connection
from pymongo import monitoring

from shared.events import catalog, event_components, new_event, outbox, subscribe, topology
from shared.events.consumer import REASON_HEADER
from shared.events.publisher import ConfirmedPublisher, Unroutable
from shared.events.relay import OutboxRelay
from shared.mongo import Mongo
from testkit.rabbit import ready_messages
from testkit.waiting import wait_until
from tests.support.event_worker import make_handler
from tests.support.events_harness import EventsHarness
from tests.support.threads import Threads


@pytest.fixture
def harness(mongo_url, mongo_db_name):
    h = EventsHarness(mongo_url, mongo_db_name)
    yield h
    h.close()


@pytest.fixture
def running(make_settings):
    """Start components in threads; stop them at the end of the test."""
    threads = Threads()
    yield threads.start
    threads.stop()


def start_consumer(make_settings, running, handler=None, **overrides):
    """The test consumer (service planning, queue planning.test-effects) running in a thread."""
    settings = make_settings("planning", **overrides)
    handlers = {"test.happened": handler or make_handler(Mongo(settings))}
    sub = subscribe(settings, "test-effects", [("intake.events", "test.#")], handlers)
    running(event_components(settings, Mongo(settings), subscriptions=[sub]))
    return settings


def start_relay(make_settings, running):
    """The relay of intake's `sources` outbox running in a thread."""
    settings = make_settings("intake")
    return running(event_components(settings, Mongo(settings), outbox_collections=["sources"]))


def publish(settings, *messages: tuple[bytes, str]) -> None:
    """Publish raw bodies (with their message ids) to intake.events as test.happened."""
    publisher = ConfirmedPublisher(settings)
    try:
        for body, message_id in messages:
            publisher.publish("intake.events", "test.happened", body, message_id=message_id)
    finally:
        publisher.close()


def test_topology_declares_quorum_queues_with_delivery_limit_dlq_and_retries(
    make_settings, vhost, rabbit_admin
):
    settings = make_settings("planning")
    sub = subscribe(settings, "things", [("intake.events", "thing.*")], {})
    with Connection(settings.amqp_url) as conn:
        topology.declare(conn, publishes_to=["planning.events"], queues=[sub.spec])
    queue = rabbit_admin.queue(vhost, "planning.things")
    assert queue["arguments"]["x-queue-type"] == "quorum"
    assert queue["arguments"]["x-delivery-limit"] == settings.amqp_delivery_limit
    assert queue["arguments"]["x-dead-letter-exchange"] == "dlx"
    names = {q["name"] for q in rabbit_admin.queues(vhost)}
    assert {
        "planning.things.dlq",
        "planning.things.retry.1000ms",
        "planning.things.retry.30000ms",
    } <= names


def test_a_conflicting_queue_stops_start_up_with_a_clear_error(make_settings):
    settings = make_settings("planning")
    with Connection(settings.amqp_url) as conn:
        conn.default_channel.queue_declare(
            "planning.things",
            durable=True,
            auto_delete=False,
            arguments={"x-queue-type": "classic"},
        )
        sub = subscribe(settings, "things", [("intake.events", "thing.*")], {})
        with pytest.raises(topology.TopologyError, match="planning.things.*different settings"):
            topology.declare(conn, queues=[sub.spec])


def test_an_unroutable_publish_is_detected_not_dropped(make_settings):
    settings = make_settings("intake")
    with Connection(settings.amqp_url) as conn:
        topology.declare(conn, publishes_to=["intake.events"])
    publisher = ConfirmedPublisher(settings)
    try:
        with pytest.raises(Unroutable, match="NO_ROUTE"):
            publisher.publish("intake.events", "nobody.listens", b"{}", message_id="m1")
    finally:
        publisher.close()


def test_types_nobody_consumes_go_to_their_publishers_sink_and_an_upgraded_broker_routes_as_a_fresh_one(
    make_settings, vhost, rabbit_admin
):
    """The notifications worker of an earlier version bound every type to its inbox and its own
    `notification.*` to `notifications.outcomes`: declaring today's topology unbinds the types
    the inbox does not handle and deletes the retired queue; each type nobody consumes lands in
    its publisher's `.unheard` sink, and none is unroutable."""
    settings = make_settings("notifications")
    every_type = [t for p in ("intake", "planning") for t in catalog.published_by(p)]
    handled = ["referral.accepted", "progress.updated"]
    with Connection(settings.amqp_url) as conn:
        old_inbox = subscribe(settings, "inbox", catalog.bindings(every_type), {}).spec
        old_outcomes = subscribe(
            settings, "outcomes", catalog.bindings(catalog.published_by("notifications")), {}
        ).spec
        topology.declare(
            conn,
            publishes_to=["intake.events", "planning.events", "notifications.events"],
            queues=[old_inbox, old_outcomes],
        )
        inbox = subscribe(
            settings,
            "inbox",
            catalog.bindings(handled),
            {},
            stale_bindings=catalog.stale_bindings(handled, ["intake", "planning"]),
        ).spec
        for publisher in ("planning", "notifications"):
            topology.declare(conn, unheard=catalog.unheard_bindings(publisher))
        topology.declare(
            conn, queues=[inbox], retired_queues=topology.RETIRED_QUEUES["notifications"]
        )
        topology.declare(conn, queues=[inbox])  # again: unbinding and deleting are idempotent
    assert not rabbit_admin.has_queue(vhost, "notifications.outcomes")
    assert not rabbit_admin.has_queue(vhost, "notifications.outcomes.retry.1000ms")
    assert not rabbit_admin.has_queue(vhost, "notifications.outcomes.dlq")  # it was empty
    publisher = ConfirmedPublisher(settings)
    try:
        for type_ in (
            "referral.accepted",
            "plan.drafted",
            "session.completed",
            "notification.sent",
        ):
            publisher.publish(catalog.exchange_of(type_), type_, b"{}", message_id=type_)
        with pytest.raises(Unroutable):  # heard by a queue (planning's) that is not bound here
            publisher.publish("intake.events", "intake.completed", b"{}", message_id="ic")
    finally:
        publisher.close()
    assert ready_messages(settings.amqp_url, "notifications.inbox") == 1
    assert ready_messages(settings.amqp_url, "planning.events.unheard") == 2
    assert ready_messages(settings.amqp_url, "notifications.events.unheard") == 1
    sink = rabbit_admin.queue(vhost, "planning.events.unheard")["arguments"]
    assert sink["x-overflow"] == "drop-head" and sink["x-max-length"] == 100_000


def test_unroutable_events_stay_pending_and_flow_once_a_queue_is_bound(
    make_settings, harness, running
):
    harness.make_targets(2)
    [relay] = start_relay(make_settings, running)
    harness.save_change(0)
    wait_until(
        lambda: (
            harness.source_db.sources.find_one({"_id": "source-0"}).get("outbox_due")
            and relay.relay_once() is False
        ),
        timeout=10,
        message="relay to try",
    )
    assert harness.pending_events() == 1
    start_consumer(make_settings, running)
    wait_until(
        lambda: harness.total_effects() == 1, timeout=20, message="the pending event to flow"
    )
    assert harness.pending_events() == 0


def test_events_flow_from_outbox_to_effect_once_each(make_settings, harness, running):
    harness.make_targets(5)
    start_consumer(make_settings, running)
    start_relay(make_settings, running)
    for i in range(50):
        harness.save_change(i % 5)
    wait_until(lambda: harness.total_effects() == 50, timeout=30, message="50 effects")
    wait_until(lambda: harness.pending_events() == 0, timeout=10, message="outbox drained")
    assert harness.source_db.sources.count_documents({"outbox_due": {"$exists": True}}) == 0


def test_the_same_event_applied_twice_has_one_effect(make_settings, harness):
    harness.make_targets(1)
    settings = make_settings("planning")
    handler = make_handler(Mongo(settings))
    event = new_event(
        "test.happened", source="clinic/test", tenant_id="t", data={"target": "target-0"}
    )
    assert handler(event) is True
    assert handler(event) is False
    assert harness.total_effects() == 1


def _dlq_messages(rabbit_admin, vhost, queue):
    return rabbit_admin.get_messages(vhost, f"{queue}.dlq")


def test_invalid_bodies_go_to_the_dead_letter_queue_with_the_reason(
    make_settings, harness, running, vhost, rabbit_admin
):
    harness.make_targets(1)
    settings = start_consumer(make_settings, running)
    bad_envelope = json.dumps({"specversion": "1.0", "id": "x", "type": "test.happened"}).encode()
    good = new_event(
        "test.happened", source="clinic/test", tenant_id="t", data={"target": "target-0"}
    )
    publish(settings, (b"{not json", "bad-1"), (bad_envelope, "bad-2"), (good.to_json(), good.id))
    wait_until(
        lambda: harness.total_effects() == 1,
        timeout=20,
        message="the good event after the bad ones",
    )
    messages = wait_until(
        lambda: len(m := _dlq_messages(rabbit_admin, vhost, "planning.test-effects")) == 2 and m,
        timeout=20,
        message="two dead letters",
    )
    reasons = {
        m["properties"]["message_id"]: m["properties"]["headers"][REASON_HEADER] for m in messages
    }
    assert "not valid JSON" in reasons["bad-1"]
    assert "source" in reasons["bad-2"] and "tenantid" in reasons["bad-2"]
    assert ready_messages(settings.amqp_url, "planning.test-effects") == 0


def test_a_poison_event_is_retried_then_dead_lettered_and_later_events_flow(
    make_settings, harness, running, vhost, rabbit_admin
):
    harness.make_targets(2)
    start_consumer(make_settings, running, amqp_retry_delays_ms="50,100")
    start_relay(make_settings, running)
    poison_id = harness.save_change(0, poison=True)
    flaky_id = harness.save_change(1, fail_times=1)
    for _ in range(3):
        harness.save_change(1)
    wait_until(
        lambda: harness.total_effects() == 4, timeout=30, message="good and flaky events applied"
    )
    [dead] = wait_until(
        lambda: _dlq_messages(rabbit_admin, vhost, "planning.test-effects"),
        timeout=30,
        message="the poison event in the DLQ",
    )
    headers = dead["properties"]["headers"]
    assert dead["properties"]["message_id"] == poison_id
    assert (
        "after 3 attempts" in headers[REASON_HEADER] and "poisoned event" in headers[REASON_HEADER]
    )
    assert headers["x-dead-letter-kind"] == "failed"
    assert harness.effect_db.attempts.find_one({"_id": flaky_id})["n"] == 2


def test_a_store_outage_in_a_handler_does_not_use_up_its_retries(
    make_settings, harness, running, vhost, rabbit_admin
):
    """More outage failures than retry steps, then the store answers: applied, not dead-lettered.
    (The real outage, with intake's worker and a killed store: tests/e2e/intake.)"""
    from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError

    harness.make_targets(1)
    handler = make_handler(Mongo(make_settings("planning")))
    outage = [AutoReconnect("connection closed"), *[ServerSelectionTimeoutError("no server")] * 4]

    def store_away_at_first(event):
        if outage:
            raise outage.pop()
        return handler(event)

    settings = start_consumer(
        make_settings, running, store_away_at_first, amqp_retry_delays_ms="20,50"
    )
    event = new_event(
        "test.happened", source="clinic/test", tenant_id="t", data={"target": "target-0"}
    )
    publish(settings, (event.to_json(), event.id))
    wait_until(lambda: harness.total_effects() == 1, timeout=20, message="the event applied")
    assert outage == []
    assert _dlq_messages(rabbit_admin, vhost, "planning.test-effects") == []


def test_dead_letters_are_listed_with_reasons_and_moved_back_after_a_fix(
    make_settings, harness, running
):
    from shared.events import dlq

    harness.make_targets(1)
    fixed = threading.Event()
    handler = make_handler(Mongo(make_settings("planning")))

    def flaky_until_fixed(event):
        if not fixed.is_set():
            raise RuntimeError("bug in the handler")
        return handler(event)

    settings = start_consumer(make_settings, running, flaky_until_fixed, amqp_retry_delays_ms="50")
    event = new_event(
        "test.happened", source="clinic/test", tenant_id="t", data={"target": "target-0"}
    )
    publish(settings, (event.to_json(), event.id))
    [row] = wait_until(
        lambda: dlq.list_dead_letters(settings, "planning.test-effects"),
        timeout=20,
        message="the dead letter",
    )
    assert row["message_id"] == event.id and "bug in the handler" in row["reason"]
    assert len(dlq.list_dead_letters(settings, "planning.test-effects")) == 1  # listing keeps them
    fixed.set()
    assert dlq.move_back(settings, "planning.test-effects", {event.id}) == 1
    wait_until(
        lambda: harness.total_effects() == 1, timeout=20, message="the moved-back event applied"
    )
    assert dlq.list_dead_letters(settings, "planning.test-effects") == []


def test_a_message_that_keeps_coming_back_is_dead_lettered_by_the_delivery_limit(make_settings):
    """A consumer that dies on a message (here: rejects it back) hands it to the DLQ at the limit."""
    from kombu import Consumer, Queue

    from shared.events import dlq

    settings = make_settings("planning", amqp_delivery_limit=2)
    sub = subscribe(settings, "test-effects", [("intake.events", "test.#")], {})
    with Connection(settings.amqp_url) as conn:
        topology.declare(conn, publishes_to=["intake.events"], queues=[sub.spec])
    event = new_event("test.happened", source="clinic/test", tenant_id="t", data={"target": "x"})
    publish(settings, (event.to_json(), event.id))
    deliveries = []
    with Connection(settings.amqp_url) as conn:
        consumer = Consumer(
            conn.default_channel,
            [Queue("planning.test-effects", no_declare=True)],
            on_message=lambda m: (deliveries.append(m), m.requeue()),
        )
        with consumer:
            wait_until(
                lambda: conn.drain_events(timeout=0.5) or len(deliveries) >= 3,
                timeout=20,
                message="the delivery limit to be reached",
            )
    [row] = wait_until(
        lambda: dlq.list_dead_letters(settings, "planning.test-effects"),
        timeout=20,
        message="the dead letter",
    )
    assert row["message_id"] == event.id
    assert row["reason"] == "broker: delivery_limit"


def test_the_relay_publishes_an_events_correlation_id_with_it(make_settings, harness, running):
    settings = make_settings("intake")
    harness.make_targets(1)
    with Connection(settings.amqp_url) as conn:
        topology.declare(conn, publishes_to=["intake.events"])
        channel = conn.channel()
        channel.queue_declare("answers", durable=True, auto_delete=False)
        channel.queue_bind("answers", "intake.events", "test.#")
    event = new_event("test.happened", source="clinic/test", tenant_id="t1", data={})
    answer = outbox.Outgoing(
        event, "intake.events", "test.happened", {"correlation_id": "their-message-7"}
    )
    harness.source_db.sources.update_one(
        {"_id": "source-0"}, outbox.with_events({"$inc": {"version": 1}}, [answer])
    )
    start_relay(make_settings, running)

    with Connection(settings.amqp_url) as conn:
        message = wait_until(
            lambda: conn.channel().basic_get("answers", no_ack=True),
            timeout=10,
            message="the relayed event",
        )
    assert message.properties["correlation_id"] == "their-message-7"
    assert message.properties["message_id"] == event.id


def test_an_event_refuses_a_property_the_publisher_sets_itself():
    event = new_event("test.happened", source="clinic/test", tenant_id="t1", data={})
    with pytest.raises(ValueError, match="message_id"):
        outbox.Outgoing(event, "intake.events", "test.happened", {"message_id": "x"})


class _Looks(monitoring.CommandListener):
    """Counts the relay's looks (`find` commands) at each collection."""

    def __init__(self) -> None:
        self.by_collection: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find":
            self.by_collection[event.command["find"]] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def test_a_woken_relay_looks_at_the_busy_collection_and_leaves_a_quiet_one_to_its_pause(
    make_settings, harness, running
):
    """The soak's slow drain: a relay polling every collection on every wake (its consumer wakes
    it after each event) kept the store from the consumers. Now a quiet collection is looked at
    after a growing pause; the busy one at once on each wake, its events published as before."""
    harness.make_targets(1)
    start_consumer(make_settings, running)
    settings, looks = make_settings("intake"), _Looks()
    db = Mongo(settings, listeners=[looks]).db
    relay = OutboxRelay(
        [db.sources, db.quiet],
        lambda: ConfirmedPublisher(settings),
        poll_interval_s=0.1,
        idle_poll_max_s=60,
    )
    running([relay])
    for done in range(1, 21):
        harness.save_change(0)
        relay.wake()  # what the worker's consumer does after saving events
        wait_until(
            lambda n=done: harness.total_effects() == n, timeout=20, message=f"effect {done}"
        )
    assert harness.pending_events() == 0
    assert looks.by_collection["sources"] >= 20
    assert looks.by_collection["quiet"] <= 10, looks.by_collection
