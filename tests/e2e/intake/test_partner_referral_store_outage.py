"""A partner's referral published while the store is down is accepted, once, when it returns.

Real processes on the real broker: intake's worker (`python -m services.intake.worker`) against
a MongoDB stand-in of this test's own (SQLite in the test's tmp dir, so that, killed and
restarted on the same port, it comes back with its data; the session's store is never touched),
and a partner on its own least-privilege RabbitMQ user. The handler meets the outage (the retry
counter of the worker's metrics moves), keeps retrying past the retry steps without being
dead-lettered, and once the store answers the partner hears `referral.accepted` exactly once,
within the longest retry step (and a margin) of the store's return: the retried copy still
names the partner, though the broker's `user_id` cannot travel on a copy.
"""

from __future__ import annotations

import time

import pymongo
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from testkit.mongo import MongoStandin
from testkit.processes import Worker, free_port
from testkit.rabbit import amqp_url, ready_messages
from testkit.referrals import native_referral
from testkit.waiting import wait_until
from tests.support.intake_world import World

QUEUE = "intake.partner-referrals"
RETRY_DELAYS_MS = (200, 500, 1000)
MARGIN_S = 6.0
"""After the longest retry step: the handler's own work, the outbox relay's publish, and a
loaded two-core machine."""


def retried(metrics_url: str) -> float:
    """`events_retried_total` of the partner-referrals queue, as the worker reports it."""
    text = requests.get(metrics_url, timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "events_retried_total" and sample.labels.get("queue") == QUEUE
    )


@pytest.fixture
def store(tmp_path):
    standin = MongoStandin(path=tmp_path / "store" / "intake.sqlite")
    yield standin
    standin.stop()


@pytest.fixture
def world(store, mongo_db_name):
    client = pymongo.MongoClient(store.url, tz_aware=True)
    world = World(client[f"{mongo_db_name}_intake"])
    world.tenant("clinic-a")
    yield world
    client.close()


@pytest.fixture
def worker(store, partner, service_env, tmp_path):
    metrics_port = free_port()
    env = service_env(
        "intake",
        MONGO_URL=store.url,
        MONGO_TIMEOUT_MS="1000",
        AMQP_RETRY_DELAYS_MS=",".join(str(ms) for ms in RETRY_DELAYS_MS),
        OUTBOX_POLL_INTERVAL_S="0.2",
        WORKER_METRICS_PORT=str(metrics_port),
    )
    process = Worker("intake", env, tmp_path)
    try:
        wait_until(process.heartbeat.exists, timeout=30, message="the intake worker")
        wait_until(partner.has_status_queue, timeout=30, message="the partner's status queue")
        process.metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        yield process
    finally:
        assert process.stop() == 0, process.log()


def test_a_referral_published_while_the_store_is_down_is_accepted_once_when_it_returns(
    store, partner, worker, vhost, tmp_path, mongo_db_name
):
    url = amqp_url(vhost)
    store.kill()
    partner.refer("clinic-a", native_referral(partner_referral_id="REF-OUTAGE"))

    # More failed attempts than there are retry steps: bounded retries would have dead-lettered it.
    wait_until(
        lambda: retried(worker.metrics) > len(RETRY_DELAYS_MS),
        timeout=60,
        message="the handler to fail on the absent store more often than there are retry steps",
    )
    assert worker.popen.poll() is None, worker.log()
    assert ready_messages(url, f"{QUEUE}.dlq") == 0
    assert partner.statuses() == []

    restarted = MongoStandin(path=tmp_path / "store" / "intake.sqlite", port=store.port)
    returned_at = time.monotonic()
    try:
        status = wait_until(
            lambda: next(iter(partner.statuses()), None),
            timeout=max(RETRY_DELAYS_MS) / 1000 + MARGIN_S,
            interval=0.1,
            message="the partner's status event after the store's return",
        )
        answered_after_s = time.monotonic() - returned_at
        assert status["type"] == "referral.accepted", status
        assert status["data"]["partner_referral_id"] == "REF-OUTAGE"

        # Settled: no copy of the message left anywhere (the consumer acks a copy only after
        # sending the next one on, so at most one exists), so no second status can be coming.
        queues = [
            QUEUE,
            f"{QUEUE}.dlq",
            *(f"{QUEUE}.retry.{ms}ms" for ms in RETRY_DELAYS_MS),
        ]
        wait_until(
            lambda: all(ready_messages(url, queue) == 0 for queue in queues),
            timeout=30,
            interval=0.2,
            message="every queue of the partner referrals to drain",
        )
        client = pymongo.MongoClient(restarted.url, serverSelectionTimeoutMS=5000)
        try:
            intake = client[f"{mongo_db_name}_intake"]
            [referral] = intake.referrals.find()
            assert referral["partner_id"] == partner.partner_id
            assert intake.patients.count_documents({}) == 1
            # No status for the partner still waiting to be relayed (intake's own events stay
            # pending here: nothing in this test consumes intake.events).
            wait_until(
                lambda: (
                    not [
                        item
                        for item in intake.referrals.find_one().get("outbox", [])
                        if item["exchange"] == "partner.status"
                    ]
                ),
                timeout=15,
                message="the partner's status relayed",
            )
        finally:
            client.close()
        statuses = partner.statuses()
        assert [s["type"] for s in statuses] == ["referral.accepted"], statuses
        assert ready_messages(url, f"{QUEUE}.dlq") == 0
        print(f"\naccepted {answered_after_s:.2f} s after the store returned")
    finally:
        assert worker.stop() == 0, worker.log()  # before the store goes again
        restarted.stop()
