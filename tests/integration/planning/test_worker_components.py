"""Planning's worker components (consumer, outbox relay, referral tracker) in threads, against the
real RabbitMQ: intake's events in, planning's events out, bad events dead-lettered with a reason."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta

import pytest

from services.planning import bootstrap, worker
from shared.events.publisher import ConfirmedPublisher
from shared.mongo import Mongo
from testkit.event_tap import EventTap
from testkit.mongo import MongoStandin
from testkit.waiting import wait_until
from tests.support import planning_data as data
from tests.support.oversized import padded
from tests.support.planning_api import InProcess, PlanningApi
from tests.support.planning_harness import INTAKE_EXCHANGE, publish
from tests.support.threads import Threads


@pytest.fixture
def running_worker(make_settings):
    settings = make_settings("planning", scheduler_poll_interval_s=0.1, outbox_poll_interval_s=0.1)
    threads = Threads()
    threads.start(worker.components(settings, Mongo(settings)))
    yield settings
    threads.stop()


@pytest.fixture
def tap(running_worker):
    tap = EventTap(running_worker.amqp_url, "planning.events")
    yield tap
    tap.close()


def test_intake_events_in_planning_events_out(running_worker, tap, client):
    raw_key, key_event = data.principal_upserted("therapist")
    intake = data.intake_completed()
    soon = (date.today() + timedelta(days=5)).isoformat()
    expiring_intake = data.intake_completed(**{"referral.expires_on": soon})
    publish(
        running_worker,
        [
            key_event,
            data.location_upserted(),
            data.intake_event("intake.completed", intake),
            data.intake_event("intake.completed", expiring_intake),
        ],
    )

    drafted = {e["data"]["referral_id"]: e for e in tap.expect("plan.drafted", count=2)}
    assert drafted[intake["referral_id"]]["source"] == "clinic/planning"
    assert drafted[intake["referral_id"]]["tenantid"] == data.TENANT
    [expiring] = tap.expect("referral.expiring")
    assert expiring["data"]["referral_id"] == expiring_intake["referral_id"]
    assert expiring["data"]["kind"] == "days"

    api = PlanningApi(InProcess(client))
    plan_id = drafted[intake["referral_id"]]["data"]["plan_id"]
    reply = wait_until(
        lambda: (r := api.plan(raw_key, plan_id)).status == 200 and r,
        timeout=10,
        message="the replicated key to work",
    )
    assert reply.body["status"] == "draft"


def test_an_unreadable_intake_is_dead_lettered_with_its_reason(running_worker, rabbit_admin, vhost):
    bad = data.intake_completed(**{"screening.outcome": "unknown"})
    publish(running_worker, [data.intake_event("intake.completed", bad)])

    [message] = wait_until(
        lambda: rabbit_admin.get_messages(vhost, "planning.intake-events.dlq"),
        timeout=15,
        message="the dead letter",
    )
    assert "unknown screening outcome" in message["properties"]["headers"]["x-dead-letter-reason"]


def test_a_5_mb_event_is_dead_lettered_unread_and_the_next_one_is_handled(
    running_worker, tap, rabbit_admin, vhost
):
    """Property 16 (limits) for AMQP: `MAX_EVENT_BYTES`, with planning's own consumer."""
    huge = data.intake_event("intake.completed", data.intake_completed())
    publisher = ConfirmedPublisher(running_worker)
    try:
        body = padded(json.loads(huge.to_json()))
        publisher.publish(INTAKE_EXCHANGE, huge.type, body, message_id=huge.id)
    finally:
        publisher.close()
    good = data.intake_completed()
    publish(running_worker, [data.intake_event("intake.completed", good)])

    [drafted] = tap.expect("plan.drafted")
    assert drafted["data"]["referral_id"] == good["referral_id"]  # the huge one made no plan
    [letter] = wait_until(
        lambda: rabbit_admin.get_messages(vhost, "planning.intake-events.dlq", truncate=100),
        timeout=15,
        message="the dead letter",
    )
    headers = letter["properties"]["headers"]
    assert headers["x-dead-letter-reason"] == (
        f"body is too large: {len(body)} bytes, more than the 2097152 an event may have"
    )
    assert headers["x-dead-letter-kind"] == "invalid"
    assert Mongo(running_worker).db.plans.count_documents({}) == 1


def test_the_referral_tracker_waits_out_a_store_outage_instead_of_ending_the_worker(
    make_settings, caplog
):
    """Seen in `make bench-scale`: the stand-in, busy filling a big clinic, had pymongo cancel
    the tracker's query (an `AutoReconnect`), the component failed and the worker exited."""
    store = MongoStandin()  # its own: this test kills it
    try:
        settings = make_settings("planning", mongo_url=store.url, mongo_timeout_ms=500)
        deps = bootstrap.build(settings, Mongo(settings), cache_ttl_s=0)
        tracker = worker.ReferralTracker(deps, poll_interval_s=0.05)
        stop, failed = threading.Event(), []

        def run() -> None:
            try:
                tracker.run(stop)
            except BaseException as error:  # what would end the worker
                failed.append(error)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        store.kill()
        wait_until(
            lambda: "referral checks wait" in caplog.text or failed,
            timeout=30,
            message="the tracker to meet the outage",
        )
        assert not failed and thread.is_alive()
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive()
    finally:
        store.stop()
