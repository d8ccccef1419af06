"""A partner's identity travels with its message: through the consumer's retries, its dead letter
and the DLQ tool's move-back a referral is judged as the partner's; a partner cannot forge the
header that carries it, nor publish where the services republish (`dlx`).

The intake worker runs in threads on the real broker and store, with short retry steps.
"""

from __future__ import annotations

import pytest
from amqp.exceptions import AccessRefused

from services.intake.repository import indexes
from services.intake.usecases import referrals
from shared.events import dlq
from shared.events.origin import ORIGINAL_USER_ID_HEADER
from testkit.partner import cloud_event
from testkit.referrals import native_referral
from testkit.waiting import wait_until

QUEUE = "intake.partner-referrals"


@pytest.fixture
def settings(make_settings):
    return make_settings("intake", outbox_poll_interval_s=0.05, amqp_retry_delays_ms="50,100")


def statuses_of(partner, count=1):
    return wait_until(
        lambda: len(found := partner.statuses()) >= count and found,
        timeout=15,
        message=f"{count} status event(s) on the partner's queue",
    )


def test_a_partner_referral_dead_lettered_after_its_retries_and_moved_back_is_the_partners(
    world, partner, settings, monkeypatch
):
    def broken(*_args, **_kwargs):
        raise RuntimeError("bug in the referral handler")

    monkeypatch.setattr(referrals, "receive", broken)
    event = cloud_event(
        "clinic-a", native_referral(partner_referral_id="REF-MOVED"), partner_id=partner.partner_id
    )
    partner.publish(event)

    [row] = wait_until(
        lambda: dlq.list_dead_letters(settings, QUEUE), timeout=20, message="the dead letter"
    )
    # Judged as the partner's on every retry: it failed in the handler, not at the gate.
    assert row["kind"] == "failed" and "after 3 attempts" in row["reason"], row
    assert "bug in the referral handler" in row["reason"]
    assert row["partner_user_id"] == partner.partner_id
    assert row["routing_key"] == f"{partner.partner_id}.referral.requested"
    assert world.audit(action="partner_message.rejected") == []

    monkeypatch.undo()  # the fix is deployed
    assert dlq.move_back(settings, QUEUE, None) == 1

    [status] = statuses_of(partner)
    assert status["type"] == "referral.accepted", status
    assert status["data"]["partner_referral_id"] == "REF-MOVED"
    referral = world.db.referrals.find_one()
    assert (referral["partner_id"], referral["channel"]) == (partner.partner_id, "amqp")
    assert dlq.list_dead_letters(settings, QUEUE) == []


def test_a_partner_that_sets_the_identity_header_itself_is_refused_answered_and_audited(
    world, partner, partner_system, settings
):
    other = partner_system()
    world.partner(other.partner_id, ["clinic-a"])
    wait_until(other.has_status_queue, timeout=10, message="its queue")
    partner.publish(
        cloud_event(
            "clinic-a",
            native_referral(partner_referral_id="REF-FORGED"),
            partner_id=other.partner_id,
        ),
        headers={ORIGINAL_USER_ID_HEADER: other.partner_id},
    )

    [row] = wait_until(
        lambda: dlq.list_dead_letters(settings, QUEUE), timeout=15, message="the dead letter"
    )
    assert row["kind"] == "rejected"
    assert row["reason"].startswith("referral refused: headers")
    assert ORIGINAL_USER_ID_HEADER in row["reason"]
    assert row["partner_user_id"] == partner.partner_id  # the broker's word, not the header's
    [status] = statuses_of(partner)
    assert status["type"] == "referral.rejected"
    assert status["data"]["reasons"][0]["field"] == "headers"
    [entry] = world.audit(action="partner_message.rejected")
    assert entry["actor"] == f"partner:{partner.partner_id}" and entry["outcome"] == "rejected"
    assert (world.count("referrals"), world.count("patients")) == (0, 0)
    assert other.statuses() == []


def test_a_forged_header_stays_refused_after_the_dead_letter_is_moved_back(
    world, partner, settings
):
    partner.publish(
        cloud_event("clinic-a", native_referral(), partner_id=partner.partner_id),
        headers={ORIGINAL_USER_ID_HEADER: "someone-else"},
    )
    wait_until(lambda: dlq.list_dead_letters(settings, QUEUE), timeout=15, message="dead letter")
    assert dlq.move_back(settings, QUEUE, None) == 1

    [row] = wait_until(
        lambda: dlq.list_dead_letters(settings, QUEUE), timeout=15, message="the dead letter again"
    )
    assert row["reason"].startswith("referral refused: headers")
    assert row["partner_user_id"] == partner.partner_id
    assert world.count("referrals") == 0
    # The same message refused twice: answered once (the refusal is recorded once).
    statuses_of(partner)
    wait_until(
        lambda: world.pending_events(indexes.PARTNER_REJECTIONS) == [],
        timeout=10,
        message="the relay to have published every status",
    )
    assert [s["type"] for s in partner.statuses()] == ["referral.rejected"]


def test_a_partner_may_not_publish_to_the_exchange_the_services_republish_through(partner):
    with pytest.raises(AccessRefused, match="dlx"):
        partner.producer.publish(
            b"{}",
            exchange="dlx",
            routing_key=f"{QUEUE}.requeue",
            user_id=partner.partner_id,
            headers={ORIGINAL_USER_ID_HEADER: partner.partner_id},
        )
        partner.connection.drain_events(timeout=2)
