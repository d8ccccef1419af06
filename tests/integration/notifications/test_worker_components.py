"""The worker's components in threads against the real RabbitMQ: events in from intake's and
planning's exchanges, emails out, `notification.*` events published through the outbox."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from kombu import Connection
from pymongo import MongoClient

from services.notifications.repository.deliveries import DeliveryStore
from services.notifications.senders.loops import SenderLoop
from shared import outages
from shared.events.catalog import exchange_of
from shared.events.consumer import REASON_HEADER
from testkit.processes import free_port
from testkit.rabbit import ready_messages
from testkit.waiting import wait_until
from tests.integration.notifications.harness import OUTCOMES_OBSERVER
from tests.support.notifications_events import event, referral_accepted
from tests.support.oversized import padded


def announced(settings) -> list[dict]:
    found = []
    with Connection(settings.amqp_url) as conn:
        while (
            message := conn.default_channel.basic_get(OUTCOMES_OBSERVER, no_ack=True)
        ) is not None:
            found.append(json.loads(message.body))
    return found


def test_a_redelivered_referral_is_emailed_once_and_the_sending_is_announced(
    worker, settings, inbox
):
    referral = referral_accepted("pat-1", email="maria@example.org", referrer_email=None)
    worker.publish(referral, referral, referral)
    [welcome] = inbox.wait_for(1)
    assert "https://intake.example/forms/pat-1-token" in welcome.text
    outcomes = wait_until(lambda: announced(settings), message="notification.sent")
    [sent] = outcomes
    assert (sent["type"], sent["source"], sent["tenantid"]) == (
        "notification.sent", "clinic/notifications", "clinic-north",
    )  # fmt: skip
    assert sent["data"]["template"] == "patient_welcome" and "maria" not in json.dumps(sent)
    assert sent["correlationid"] == referral.id  # the work it belongs to
    wait_until(
        lambda: ready_messages(settings.amqp_url, "notifications.inbox") == 0,
        message="the inbox drained",
    )
    assert len(inbox.mails) == 1


def test_an_event_with_unusable_data_is_dead_lettered_with_the_reason(worker, settings):
    broken = event("session.scheduled", {"session_id": "ses-1", "patient_id": "pat-1"})
    worker.publish(broken)
    wait_until(
        lambda: ready_messages(settings.amqp_url, "notifications.inbox.dlq") == 1,
        message="the broken event in the DLQ",
    )
    with Connection(settings.amqp_url) as conn:
        message = conn.default_channel.basic_get("notifications.inbox.dlq", no_ack=True)
        reason = message.headers[REASON_HEADER]
    assert "session.scheduled: invalid data" in reason and "starts_at" in reason


def test_a_5_mb_event_is_dead_lettered_unread_and_the_next_one_is_handled(
    worker, settings, service, inbox
):
    """Property 16 (limits) for AMQP: `MAX_EVENT_BYTES`, with the notifications consumer."""
    huge = referral_accepted("pat-9", email="huge@example.org", referrer_email=None)
    body = padded(json.loads(huge.to_json()))
    worker.publisher.publish(exchange_of(huge.type), huge.type, body, message_id=huge.id)
    worker.publish(referral_accepted("pat-1", email="maria@example.org", referrer_email=None))

    [welcome] = inbox.wait_for(1)
    assert welcome.to == ("maria@example.org",)
    wait_until(
        lambda: ready_messages(settings.amqp_url, "notifications.inbox.dlq") == 1,
        message="the huge event in the DLQ",
    )
    with Connection(settings.amqp_url) as conn:
        message = conn.default_channel.basic_get("notifications.inbox.dlq", no_ack=True)
        headers = message.headers
    assert headers[REASON_HEADER] == (
        f"body is too large: {len(body)} bytes, more than the 2097152 an event may have"
    )
    assert headers["x-dead-letter-kind"] == "invalid"
    assert service.contact("pat-9") is None  # nothing of it stored
    assert service.db.deliveries.count_documents({"address": "huge@example.org"}) == 0


def test_a_sender_loop_waits_out_a_store_outage_with_a_warning_not_a_traceback(caplog):
    """A store that does not answer (nothing listens on its port) is an outage, not a bug: the
    loop says so in one warning line a look, has nothing to deliver, does not raise, and waits
    longer after each look that failed."""
    client = MongoClient(f"mongodb://127.0.0.1:{free_port()}", serverSelectionTimeoutMS=200)
    try:
        store = DeliveryStore(client.notifications.deliveries)
        idle_poll_s = 5
        loop = SenderLoop("t", lambda d: "sent", store, 5, idle_poll_s, lambda: datetime.now(UTC))
        assert loop.pause_s() == idle_poll_s
        with caplog.at_level(logging.WARNING, logger="notifications.sender"):
            assert loop.run_once() is False
            assert loop.pause_s() == outages.pause_s(1)
            assert loop.run_once() is False
            assert loop.pause_s() == outages.pause_s(2)  # growing, as every looping component's
    finally:
        client.close()
    said, _ = [r for r in caplog.records if r.name == "notifications.sender"]
    assert (said.levelno, said.getMessage(), said.exc_info) == (
        logging.WARNING, "store unavailable; deliveries wait", None,
    )  # fmt: skip
    assert "ServerSelectionTimeoutError" in said.error
