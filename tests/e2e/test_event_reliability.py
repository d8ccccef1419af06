"""The reliability properties of the event machinery, with real worker processes, the real
RabbitMQ (stopped, restarted, connections closed) and MongoDB."""

from __future__ import annotations

import signal
import sys

import pytest

from shared.events import new_event
from shared.events.publisher import ConfirmedPublisher
from testkit.processes import Process
from testkit.rabbit import rabbitmqctl, ready_messages
from testkit.waiting import wait_until
from tests.support.events_harness import EventsHarness

QUEUE = "planning.test-effects"


@pytest.fixture
def harness(mongo_url, mongo_db_name):
    h = EventsHarness(mongo_url, mongo_db_name)
    yield h
    h.close()


@pytest.fixture
def workers(service_env, tmp_path):
    started: list[Process] = []

    def start(role: str, name: str | None = None, **env: str) -> Process:
        service = "intake" if role == "relay" else "planning"
        name = name or f"{role}-{len(started)}"
        process = Process(
            name,
            [sys.executable, "-m", "tests.support.event_worker"],
            service_env(service, TEST_ROLE=role, AMQP_RETRY_DELAYS_MS="100,200", **env),
            tmp_path,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def wait_for_consumer(settings_url: str, count: int = 1) -> None:
    from kombu import Connection

    def consumers() -> bool:
        with Connection(settings_url) as conn:
            return conn.default_channel.queue_declare(QUEUE, passive=True).consumer_count >= count

    wait_until(consumers, timeout=30, message=f"{count} consumer(s) on {QUEUE}")


def test_a_consumer_killed_after_its_effect_and_before_its_ack_leaves_one_effect(
    harness, workers, make_settings
):
    harness.make_targets(1)
    first = workers("consumer")
    relay = workers("relay")
    url = make_settings("planning").amqp_url
    wait_for_consumer(url)
    event_id = harness.save_change(0, block_after_effect=True)
    wait_until(
        lambda: harness.effect_db.markers.find_one({"_id": event_id}),
        timeout=30,
        message="the effect to be written",
    )
    first.kill()  # kill -9: the effect is durable, the ack never happened
    assert harness.total_effects() == 1
    workers("consumer")
    wait_until(
        lambda: ready_messages(url, QUEUE) == 0 and harness.pending_events() == 0,
        timeout=30,
        message="the queue to drain",
    )
    wait_for_consumer(url)
    assert harness.total_effects() == 1
    assert relay.popen.poll() is None


def test_thousands_of_events_survive_a_broker_stop_and_start_mid_stream(
    harness, workers, make_settings
):
    total, targets = 2000, 200
    harness.make_targets(targets)
    workers("consumer")
    workers("relay")
    wait_for_consumer(make_settings("planning").amqp_url)
    saved = 0
    try:
        for i in range(total):
            if i == total // 3:
                rabbitmqctl("stop_app")
            if i == 2 * total // 3:
                rabbitmqctl("start_app")
                rabbitmqctl("await_startup")
            harness.save_change(i % targets)  # state changes succeed while the broker is down
            saved += 1
    finally:
        rabbitmqctl("start_app")
    wait_until(
        lambda: harness.total_effects() >= saved and harness.pending_events() == 0,
        timeout=180,
        interval=0.5,
        message=f"all {saved} events consumed",
    )
    assert harness.total_effects() == saved == total
    assert harness.source_db.sources.count_documents({"outbox_due": {"$exists": True}}) == 0


def test_the_same_event_delivered_five_times_to_two_consumers_has_one_effect(
    harness, workers, make_settings
):
    harness.make_targets(1)
    workers("consumer")
    workers("consumer")
    settings = make_settings("planning")
    wait_for_consumer(settings.amqp_url, count=2)
    event = new_event(
        "test.happened", source="clinic/test", tenant_id="t", data={"target": "target-0"}
    )
    publisher = ConfirmedPublisher(settings)
    try:
        for _ in range(5):
            publisher.publish(
                "intake.events", "test.happened", event.to_json(), message_id=event.id
            )
    finally:
        publisher.close()
    wait_until(
        lambda: ready_messages(settings.amqp_url, QUEUE) == 0 and harness.total_effects() == 1,
        timeout=30,
        message="all five deliveries handled",
    )
    doc = harness.effect_db.effects.find_one({"_id": "target-0"})
    assert doc["count"] == 1
    assert doc["applied_events"] == [event.key]


def test_an_event_saved_while_the_relay_was_down_is_published_after_it_starts(
    harness, workers, make_settings
):
    harness.make_targets(1)
    workers("consumer")
    wait_for_consumer(make_settings("planning").amqp_url)
    harness.save_change(
        0
    )  # the state change and its event are saved; no relay runs (a crash before publishing)
    assert harness.pending_events() == 1
    workers("relay")
    wait_until(
        lambda: harness.total_effects() == 1 and harness.pending_events() == 0,
        timeout=30,
        message="the pending event to be published",
    )


def test_a_relay_crash_between_confirm_and_mark_republishes_and_the_duplicate_is_skipped(
    harness, workers, make_settings
):
    harness.make_targets(1)
    workers("consumer")
    settings = make_settings("planning")
    wait_for_consumer(settings.amqp_url)
    harness.save_change(0)
    # What the broker sees when a relay dies after the confirm and before marking the event sent:
    # the event is published once, and it is still pending in the outbox.
    [pending] = harness.source_db.sources.find_one({"_id": "source-0"})["outbox"]
    publisher = ConfirmedPublisher(settings)
    try:
        publisher.publish(
            pending["exchange"],
            pending["routing_key"],
            new_event_body(pending["event"]),
            message_id=pending["id"],
        )
    finally:
        publisher.close()
    wait_until(lambda: harness.total_effects() == 1, timeout=30, message="the first delivery")
    workers("relay")  # the restarted relay publishes it again
    wait_until(
        lambda: harness.pending_events() == 0 and ready_messages(settings.amqp_url, QUEUE) == 0,
        timeout=30,
        message="the republished duplicate",
    )
    assert harness.total_effects() == 1


def new_event_body(document: dict) -> bytes:
    import json

    return json.dumps(document).encode()


def test_with_rabbitmq_stopped_state_changes_succeed_and_the_backlog_flows_within_10_s(
    harness, workers, make_settings
):
    harness.make_targets(10)
    workers("consumer")
    workers("relay")
    wait_for_consumer(make_settings("planning").amqp_url)
    rabbitmqctl("stop_app")
    try:
        for i in range(30):
            harness.save_change(i % 10)
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
    wait_until(
        lambda: harness.total_effects() == 30 and harness.pending_events() == 0,
        timeout=10,
        message="the backlog to flow within 10 s of the broker's return",
    )


def test_after_all_connections_are_closed_consumers_and_relay_resume_within_10_s(
    harness, workers, make_settings
):
    harness.make_targets(5)
    workers("consumer")
    workers("relay")
    wait_for_consumer(make_settings("planning").amqp_url)
    for i in range(10):
        harness.save_change(i % 5)
    wait_until(lambda: harness.total_effects() == 10, timeout=30, message="first batch")
    rabbitmqctl("close_all_connections", "test: connection reset")
    for i in range(10):
        harness.save_change(i % 5)
    wait_until(
        lambda: harness.total_effects() == 20 and harness.pending_events() == 0,
        timeout=10,
        message="second batch within 10 s",
    )


def test_sigterm_during_a_handler_lets_it_finish_ack_and_exit_0(harness, workers, make_settings):
    harness.make_targets(1)
    consumer = workers("consumer")
    workers("relay")
    url = make_settings("planning").amqp_url
    wait_for_consumer(url)
    event_id = harness.save_change(0, slow_ms=2000)
    wait_until(
        lambda: harness.effect_db.markers.find_one({"_id": event_id}),
        timeout=30,
        message="the handler to start",
    )
    consumer.signal(signal.SIGTERM)
    assert consumer.wait(timeout=30) == 0, consumer.log()
    assert harness.total_effects() == 1
    assert ready_messages(url, QUEUE) == 0  # acked: nothing returned to the queue
