"""The worker's components in threads against the real RabbitMQ: events in from intake's and
planning's exchanges, emails out, `notification.*` events published through the outbox."""

from __future__ import annotations

import json

from kombu import Connection

from shared.events.consumer import REASON_HEADER
from testkit.rabbit import ready_messages
from testkit.waiting import wait_until
from tests.integration.notifications.harness import OUTCOMES_OBSERVER
from tests.support.notifications_events import event, referral_accepted


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
