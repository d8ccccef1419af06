"""Intake's own worker (its relay and publisher, in threads or called directly) when the broker
pushes back: a full queue (length limit, `reject-publish`), a stalled broker (memory alarm),
an event no queue is bound for (NO_ROUTE). Each time the events wait in the outbox, nothing is
lost, and once the broker has room they are published once each.

The memory alarm stalls every publisher of the node: run these against a broker of your own
(`TEST_AMQP_BASE`, `RABBITMQ_MANAGEMENT_URL`, `RABBITMQ_NODENAME`)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest
from kombu import Connection
from prometheus_client import REGISTRY, start_http_server

from services.intake import cli, worker
from shared.events import policies, subscribe, topology
from shared.events.publisher import PublishFailed
from shared.events.relay import OutboxRelay
from shared.events.topology import PARTNER_STATUS_EXCHANGE
from testkit import rabbit
from testkit.event_tap import EventTap
from testkit.metrics import metric_samples
from testkit.referrals import native_referral
from testkit.staff import bearer
from testkit.waiting import wait_until

CONFIRM_TIMEOUT_S = 1.0
STATUS_LIMIT = 3


@pytest.fixture
def settings(make_settings):
    return make_settings(
        "intake", outbox_poll_interval_s=0.05, amqp_confirm_timeout_s=CONFIRM_TIMEOUT_S
    )


def outbox(db, exchange: str, routing_prefix: str = "") -> list[dict]:
    """The events still pending in intake's outboxes for one exchange (and routing key prefix)."""
    from services.intake.repository.indexes import OUTBOX_COLLECTIONS

    return [
        item
        for name in OUTBOX_COLLECTIONS
        for doc in db[name].find({"outbox.0": {"$exists": True}}, {"outbox": 1})
        for item in doc["outbox"]
        if item["exchange"] == exchange and item["routing_key"].startswith(routing_prefix)
    ]


def counter(name: str, exchange: str | None = None) -> float:
    """A counter of this process's event machinery, for one exchange or summed over all."""
    if exchange is not None:
        return REGISTRY.get_sample_value(name, {"exchange": exchange}) or 0.0
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        for sample in metric.samples
        if sample.name == name
    )


def the_relay(components) -> OutboxRelay:
    return next(c for c in components if isinstance(c, OutboxRelay))


def post_referral(client, key) -> str:
    response = client.post("/referrals", json=native_referral(), headers=bearer(key))
    assert response.status_code == 201, response.json
    return response.json["referral_id"]


def test_apply_broker_policies_limits_every_kind_of_queue_and_overflow_rejects_publish(
    make_settings, vhost, rabbit_admin, capsys
):
    ops = make_settings("intake", rabbitmq_management_url=rabbit.MANAGEMENT_URL)
    assert cli.main(["apply-broker-policies"], settings=ops) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out) == {
        "vhost": vhost,
        "policies": [p.name for p in policies.policies()],
    }
    spec = subscribe(ops, "test-limits", [("intake.events", "test.#")], {}).spec
    with Connection(ops.amqp_url) as conn:
        topology.declare(conn, queues=[spec])
        conn.default_channel.queue_declare(
            "partner.acme-ehr.status",
            durable=True,
            auto_delete=False,
            arguments={"x-queue-type": "quorum"},
        )
    policy_of = dict(rabbit.queue_policies(vhost))
    expected = {
        spec.name: "service-queues",
        topology.retry_queue_name(spec.name, spec.retry_delays_ms[0]): "retry-queues",
        topology.dlq_name(spec.name): "dead-letter-queues",
        "partner.acme-ehr.status": "partner-status-queues",
    }
    assert {queue: policy_of[queue] for queue in expected} == expected  # as the broker applies them
    for definition in rabbit_admin.policies(vhost):
        assert definition["definition"]["overflow"] == "reject-publish"


# -- a full queue (property 16) ------------------------------------------------------------------


def test_a_full_status_queue_holds_its_statuses_in_the_outbox_others_flow_then_each_arrives_once(
    world, partner_system, start_worker, vhost
):
    limits = policies.Limits(partner_status_messages=STATUS_LIMIT)
    policies.apply(rabbit.MANAGEMENT_URL, vhost, policies.policies(limits))
    slow, other = partner_system(), partner_system()
    for partner in (slow, other):
        world.partner(partner.partner_id, ["clinic-a"])
    refused_before = counter("events_refused_total", PARTNER_STATUS_EXCHANGE)
    start_worker()
    wait_until(slow.has_status_queue, timeout=15, message="the status queue")

    sent = [slow.refer("clinic-a", native_referral())["id"] for _ in range(STATUS_LIMIT + 4)]
    held = wait_until(
        lambda: (
            world.count("referrals") == len(sent)
            and (pending := outbox(world.db, PARTNER_STATUS_EXCHANGE, slow.partner_id))
            and rabbit.ready_messages(slow.url, slow.status_queue) + len(pending) == len(sent)
            and pending
        ),
        timeout=30,
        message="every referral stored, its status queued or held in the outbox",
    )
    assert rabbit.ready_messages(slow.url, slow.status_queue) <= STATUS_LIMIT + 1
    assert counter("events_refused_total", PARTNER_STATUS_EXCHANGE) > refused_before

    other_sent = {other.refer("clinic-a", native_referral())["id"] for _ in range(2)}
    wait_until(
        lambda: {s["correlation_id"] for s in other.statuses()} >= other_sent,
        timeout=15,
        message="the other partner's statuses, past the full queue",
    )
    assert {e["id"] for e in outbox(world.db, PARTNER_STATUS_EXCHANGE, slow.partner_id)} == {
        e["id"] for e in held
    }, "held events stay pending (not lost, not marked sent) while the queue is full"

    wait_until(
        lambda: (
            len(slow.statuses()) >= len(sent)
            and not outbox(world.db, PARTNER_STATUS_EXCHANGE, slow.partner_id)
        ),
        timeout=30,
        message="the held statuses, once the partner reads its queue",
    )
    wait_until(
        lambda: rabbit.ready_messages(slow.url, slow.status_queue) == 0,
        timeout=5,
        message="nothing more in the queue",
    )
    received = slow.statuses()
    assert sorted(s["correlation_id"] for s in received) == sorted(sent)
    assert len({s["id"] for s in received}) == len(received) == len(sent)


def poll_in_time(relay: OutboxRelay, limit_s: float) -> tuple[BaseException | None, float]:
    """One poll of the relay, in a thread so that a hang fails the test instead of stalling it;
    (what it raised, how long it took). A poll that outlives `limit_s` fails the test."""
    outcome: list[BaseException | None] = []

    def poll() -> None:
        try:
            relay.relay_once()
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    started = time.monotonic()
    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    thread.join(timeout=limit_s)
    took = time.monotonic() - started
    assert outcome, f"the relay's poll still runs after {took:.1f} s (it hangs on the stall)"
    return outcome[0], took


# -- a stalled broker (property 6) ----------------------------------------------------------------


def test_with_the_broker_stalled_publish_gives_up_within_the_confirm_timeout_and_events_wait(
    settings, mongo, world, client, partner_key, internal_events, rabbit_admin, vhost
):
    relay = the_relay(worker.components(settings, mongo))
    before = post_referral(client, partner_key)
    assert relay.relay_once()
    wait_until(
        lambda: any(e["data"].get("referral_id") == before for e in internal_events.events()),
        timeout=10,
        message="the first referral's event, before the stall",
    )
    status_queue = "partner.acme-ehr.status"
    failed_before = counter("events_publish_failed_total")
    with rabbit.memory_alarm():
        stalled = post_referral(client, partner_key)  # the API still accepts work
        held = {e["id"] for e in outbox(world.db, "intake.events")}
        held_status = {e["id"] for e in outbox(world.db, PARTNER_STATUS_EXCHANGE)}
        assert held and held_status
        error, _ = poll_in_time(relay, CONFIRM_TIMEOUT_S + 1.5)  # the first publish stalls
        assert isinstance(error, PublishFailed), repr(error)
        error, took = poll_in_time(relay, CONFIRM_TIMEOUT_S + 1.5)
        assert isinstance(error, PublishFailed) and "nothing sent" in str(error), repr(error)
        assert took < CONFIRM_TIMEOUT_S / 2, "while blocked, the relay gives up without sending"
        assert {e["id"] for e in outbox(world.db, "intake.events")} == held
        assert {e["id"] for e in outbox(world.db, PARTNER_STATUS_EXCHANGE)} == held_status
        assert counter("events_publish_failed_total") >= failed_before + 2

        stop = threading.Event()  # the worker stopping during the stall (SIGTERM) stops in time
        running = threading.Thread(target=relay.run, args=(stop,), daemon=True)
        running.start()
        wait_until(
            lambda: counter("events_publish_failed_total") >= failed_before + 3,
            timeout=10,
            message="the running relay to give up once",
        )
        stop.set()
        running.join(timeout=8)  # its longest pause (3 s), a poll, the bounded close (2 s)
        assert not running.is_alive(), "the relay did not stop: closing hung on the stall"
        assert {e["id"] for e in outbox(world.db, "intake.events")} == held

    wait_until(relay.relay_once, timeout=15, message="the held events published after the stall")
    assert not outbox(world.db, "intake.events") and not outbox(world.db, PARTNER_STATUS_EXCHANGE)
    wait_until(
        lambda: {e["id"] for e in internal_events.events()} >= held,
        timeout=10,
        message="the held events, after the stall",
    )
    statuses = [
        m["properties"]["message_id"] for m in rabbit_admin.get_messages(vhost, status_queue)
    ]
    delivered = Counter(
        [e["id"] for e in internal_events.events() if e["id"] in held]
        + [m for m in statuses if m in held_status]
    )
    assert set(delivered) == held | held_status
    # Only the one message in flight when the stall began can arrive twice (the broker delivers
    # it after the alarm, the outbox publishes it again; consumers skip the copy): nothing was
    # sent while the broker blocked publishing.
    assert sum(delivered.values()) - len(delivered) <= 1, delivered
    assert any(e["data"].get("referral_id") == stalled for e in internal_events.events())


# -- an unroutable event (property 7) -------------------------------------------------------------


def test_an_event_no_queue_is_bound_for_stays_pending_is_counted_and_flows_once_bound(
    settings, mongo, world, client, partner_key
):
    server, _ = start_http_server(0, addr="127.0.0.1")  # the worker's metrics endpoint
    metrics = f"http://127.0.0.1:{server.server_port}/metrics"
    tap = None
    try:
        relay = the_relay(worker.components(settings, mongo))  # nothing binds intake.events
        counted = unroutable(metrics)
        post_referral(client, partner_key)
        held = {e["id"] for e in outbox(world.db, "intake.events")}
        assert held
        relay.relay_once()
        assert {e["id"] for e in outbox(world.db, "intake.events")} == held
        assert unroutable(metrics) > counted

        tap = EventTap(settings.amqp_url, "intake.events")  # now a queue is bound
        wait_until(
            lambda: relay.relay_once() is not None and not outbox(world.db, "intake.events"),
            timeout=15,
            message="the held events, once a queue is bound",
        )
        assert sorted(e["id"] for e in tap.events()) == sorted(held)
    finally:
        server.shutdown()
        if tap is not None:
            tap.close()


def unroutable(metrics_url: str) -> float:
    samples = metric_samples(metrics_url, "events_unroutable_total")
    return samples.get('{exchange="intake.events"}', 0.0)
