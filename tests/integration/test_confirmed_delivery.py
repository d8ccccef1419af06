"""Confirmed means delivered (reliability property 2): the services' publisher publishes to a
service queue (declared by the shared topology, with the broker policies) while the broker
application stops and starts; every id the broker confirmed is then consumed from the queue.

Stops the broker: run against a broker of your own (`TEST_AMQP_BASE`, `RABBITMQ_NODENAME`)."""

from __future__ import annotations

import threading

from kombu import Connection

from shared.events import policies, subscribe, topology
from shared.events.publisher import ConfirmedPublisher, PublishFailed
from testkit import rabbit
from testkit.rabbit import rabbitmqctl
from testkit.waiting import wait_until

BEFORE_STOP, AFTER_START = 100, 50


class Publishing:
    """Publishes ids 0, 1, 2... with confirms until stopped; a failed id is tried again."""

    def __init__(self, settings) -> None:
        self.publisher = ConfirmedPublisher(settings)
        self.confirmed: list[str] = []
        self.attempted: set[str] = set()
        self.failures = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self.stop.is_set():
            message_id = f"m-{n}"
            self.attempted.add(message_id)
            try:
                self.publisher.publish(
                    "intake.events", "test.happened", b"{}", message_id=message_id
                )
            except PublishFailed:
                self.failures += 1
                self.stop.wait(0.1)
                continue
            self.confirmed.append(message_id)
            n += 1
        self.publisher.close()


def consume_all(url: str, queue: str) -> list[str]:
    taken = []
    with Connection(url) as conn:
        channel = conn.default_channel
        while (message := channel.basic_get(queue, no_ack=False)) is not None:
            taken.append(message.properties["message_id"])
            channel.basic_ack(message.delivery_tag)
    return taken


def test_every_confirmed_id_is_consumed_after_a_broker_restart_mid_stream(make_settings, vhost):
    settings = make_settings("planning", amqp_confirm_timeout_s=2.0)
    policies.apply(rabbit.MANAGEMENT_URL, vhost)
    spec = subscribe(settings, "confirmed-check", [("intake.events", "test.#")], {}).spec
    with Connection(settings.amqp_url) as conn:
        topology.declare(conn, publishes_to=["intake.events"], queues=[spec])

    publishing = Publishing(settings)
    publishing.thread.start()
    try:
        wait_until(
            lambda: len(publishing.confirmed) >= BEFORE_STOP,
            timeout=30,
            message=f"{BEFORE_STOP} confirmed before the stop",
        )
        rabbitmqctl("stop_app")
        confirmed_before_stop = len(publishing.confirmed)
        failures_before = publishing.failures
        wait_until(
            lambda: publishing.failures > failures_before,
            timeout=15,
            message="a publish refused while the broker is down",
        )
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
    try:
        wait_until(
            lambda: len(publishing.confirmed) >= confirmed_before_stop + AFTER_START,
            timeout=30,
            message=f"{AFTER_START} more confirmed after the start",
        )
    finally:
        publishing.stop.set()
        publishing.thread.join(timeout=15)

    consumed = consume_all(settings.amqp_url, spec.name)
    missing = set(publishing.confirmed) - set(consumed)
    assert not missing, f"{len(missing)} confirmed ids never consumed, e.g. {sorted(missing)[:5]}"
    assert set(consumed) <= publishing.attempted
    assert len(publishing.confirmed) >= BEFORE_STOP + AFTER_START
