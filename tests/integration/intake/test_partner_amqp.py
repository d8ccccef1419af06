"""Partner referrals over AMQP, with the partner's own RabbitMQ user and the intake worker in threads:
accepted referrals reach the clinic and the partner's own status queue; refusals are precise,
dead-lettered, audited, and store nothing."""

from __future__ import annotations

import pytest
from amqp.exceptions import AccessRefused, PreconditionFailed

from services.intake.repository import indexes
from shared.events.consumer import REASON_HEADER
from testkit.partner import FHIR, cloud_event
from testkit.referrals import fhir_referral, native_referral, resource
from testkit.staff import bearer
from testkit.waiting import wait_until
from tests.support.oversized import padded

DLQ = "intake.partner-referrals.dlq"


def status_of(partner, partner_referral_id):
    return wait_until(
        lambda: partner.status_of(partner_referral_id),
        timeout=15,
        message=f"a status event for {partner_referral_id}",
    )


def dead_letters(rabbit_admin, vhost, count):
    return wait_until(
        lambda: (
            (found := rabbit_admin.get_messages(vhost, DLQ, 50)) and len(found) >= count and found
        ),
        timeout=15,
        message=f"{count} dead letter(s)",
    )


def rejections_audited(world):
    """The audit records of refused partner messages, once there is one."""
    return wait_until(
        lambda: world.audit(action="partner_message.rejected"),
        timeout=10,
        message="the audit record",
    )


@pytest.mark.parametrize(
    ("form", "make"),
    [
        ("fhir", lambda rid: fhir_referral(rid)),
        ("native", lambda rid: native_referral(partner_referral_id=rid)),
    ],
)
def test_a_referral_published_as_the_partner_is_accepted_and_the_partner_hears_it(
    client, world, partner, front_desk, form, make
):
    content_type = FHIR if form == "fhir" else "application/json"
    partner.refer("clinic-a", make(f"REF-{form}"), datacontenttype=content_type)

    status = status_of(partner, f"REF-{form}")
    assert status["type"] == "referral.accepted"
    assert status["routing_key"] == f"{partner.partner_id}.referral.accepted"
    assert status["data"]["status"] == "accepted" and status["data"]["reasons"] == []
    referral = client.get(
        f"/referrals/{status['data']['referral_id']}", headers=bearer(front_desk)
    ).json
    assert (referral["form"], referral["channel"], referral["partner_id"]) == (
        form,
        "amqp",
        partner.partner_id,
    )
    patients = client.get("/patients", headers=bearer(front_desk)).json["items"]
    assert [p["patient_id"] for p in patients] == [referral["patient_id"]]


def test_the_same_event_delivered_twice_and_a_repeat_are_applied_once(world, partner):
    event = cloud_event(
        "clinic-a", native_referral(partner_referral_id="REF-R"), partner_id=partner.partner_id
    )
    partner.publish(event)
    partner.publish(event)
    partner.publish({**event, "id": "another-event-id"})
    status_of(partner, "REF-R")
    wait_until(
        lambda: world.db.referrals.find_one({"outbox_due": {"$exists": False}}),
        timeout=10,
        message="relay",
    )
    assert (world.count("referrals"), world.count("patients")) == (1, 1)
    assert len([s for s in partner.statuses() if s["type"] == "referral.accepted"]) == 1


def test_a_partner_cancels_a_referral_with_a_cancellation_event(world, partner):
    partner.refer("clinic-a", native_referral(partner_referral_id="REF-C"))
    status_of(partner, "REF-C")
    partner.refer(
        "clinic-a",
        {"partner_referral_id": "REF-C", "reason": "duplicate order"},
        type="referral.cancelled",
    )

    cancelled = wait_until(
        lambda: next((s for s in partner.statuses() if s["type"] == "referral.cancelled"), None),
        timeout=15,
        message="the cancellation status",
    )
    assert cancelled["routing_key"] == f"{partner.partner_id}.referral.cancelled"
    assert world.db.referrals.find_one()["status"] == "cancelled"


def not_an_order(bundle):
    resource(bundle, "ServiceRequest")["intent"] = "plan"
    return bundle


def bad_codes(bundle):
    for n in (0, 1):
        resource(bundle, "Condition", n)["code"]["coding"][0]["code"] = "X99.99"
    return bundle


def no_subject(bundle):
    del resource(bundle, "ServiceRequest")["subject"]
    return bundle


REFUSED_BY_CONTENT = [
    ("malformed-json", lambda p: p.publish(b'{"specversion": "1.0", '), None, "body"),
    (
        "invalid-fhir",
        lambda p: p.refer("clinic-a", no_subject(fhir_referral("REF-X")), datacontenttype=FHIR),
        "REF-X",
        "ServiceRequest.subject",
    ),
    (
        "not-an-order",
        lambda p: p.refer("clinic-a", not_an_order(fhir_referral("REF-X")), datacontenttype=FHIR),
        "REF-X",
        "ServiceRequest.intent",
    ),
    (
        "clinic-not-allowed",
        lambda p: p.refer("clinic-b", native_referral(partner_referral_id="REF-X")),
        "REF-X",
        "tenantid",
    ),
]


@pytest.mark.parametrize(
    ("case", "send", "reference", "field"),
    REFUSED_BY_CONTENT,
    ids=[c[0] for c in REFUSED_BY_CONTENT],
)
def test_a_refused_message_is_dead_lettered_with_its_reason_answered_audited_and_stores_nothing(
    world, partner, rabbit_admin, vhost, internal_events, case, send, reference, field
):
    send(partner)

    [letter] = dead_letters(rabbit_admin, vhost, 1)
    assert letter["properties"]["headers"][REASON_HEADER].startswith(f"referral refused: {field}")
    status = wait_until(lambda: partner.statuses(), timeout=15, message="the rejection status")[0]
    assert status["type"] == "referral.rejected"
    assert status["routing_key"] == f"{partner.partner_id}.referral.rejected"
    assert status["data"]["partner_referral_id"] == reference
    assert status["data"]["reasons"][0]["field"] == field
    [entry] = world.audit(action="partner_message.rejected")
    assert entry["actor"] == f"partner:{partner.partner_id}" and entry["outcome"] == "rejected"
    assert (world.count("referrals"), world.count("patients")) == (0, 0)
    if case in ("invalid-fhir", "not-an-order"):  # the clinic hears of refusals meant for it
        [internal] = wait_until(
            lambda: internal_events.events("referral.rejected"),
            timeout=10,
            message="referral.rejected",
        )
        assert (internal["tenantid"], internal["data"]["partner_id"]) == (
            "clinic-a",
            partner.partner_id,
        )
    else:
        assert internal_events.events("referral.rejected") == []


def test_a_message_without_user_id_is_refused_and_audited_but_nobody_is_answered(
    world, partner, rabbit_admin, vhost
):
    partner.publish(cloud_event("clinic-a", native_referral()), user_id=None)

    [letter] = dead_letters(rabbit_admin, vhost, 1)
    assert "user_id" in letter["properties"]["headers"][REASON_HEADER]
    assert rejections_audited(world)[0]["actor"] == "partner:anonymous"
    assert (world.count("referrals"), world.count("patients")) == (0, 0)
    assert world.pending_events(indexes.PARTNER_REJECTIONS) == []


def test_an_unknown_partner_is_refused_and_gets_no_status(
    world, partner_system, start_worker, rabbit_admin, vhost
):
    stranger = partner_system()
    start_worker()
    stranger.refer("clinic-a", native_referral())

    [letter] = dead_letters(rabbit_admin, vhost, 1)
    assert "is not a known partner" in letter["properties"]["headers"][REASON_HEADER]
    rejections_audited(world)
    assert world.count("referrals") == 0


def test_a_new_partner_gets_its_status_queue_within_seconds(world, partner, rabbit_admin, vhost):
    world.partner("late-partner", ["clinic-a"])
    queue = wait_until(
        lambda: rabbit_admin.queue(vhost, "partner.late-partner.status"),
        timeout=10,
        message="the queue",
    )
    assert queue["arguments"] == {"x-queue-type": "quorum"}


def test_a_partner_can_neither_read_another_partners_status_nor_publish_as_another(
    world, partner, partner_system
):
    other = partner_system()
    world.partner(other.partner_id, ["clinic-a"])
    wait_until(other.has_status_queue, timeout=10, message="its queue")
    with pytest.raises(AccessRefused):
        partner.connection.channel().basic_get(other.status_queue, no_ack=False)
    with pytest.raises(PreconditionFailed, match="user_id"):
        partner.publish(cloud_event("clinic-a", native_referral()), user_id=other.partner_id)
        partner.connection.drain_events(timeout=2)


def test_each_status_names_the_message_it_answers_in_its_data_and_correlation_id(world, partner):
    sent = partner.refer("clinic-a", native_referral(partner_referral_id="REF-A"))
    cancel = partner.refer(
        "clinic-a", {"partner_referral_id": "REF-A", "reason": "moved"}, type="referral.cancelled"
    )

    accepted = status_of(partner, "REF-A")
    cancelled = wait_until(
        lambda: next((s for s in partner.statuses() if s["type"] == "referral.cancelled"), None),
        timeout=15,
        message="the cancellation status",
    )
    for status, message in ((accepted, sent), (cancelled, cancel)):
        assert status["data"]["answers"] == {"id": message["id"], "source": message["source"]}
        assert status["correlation_id"] == message["id"]


def test_a_message_whose_envelope_cannot_be_read_is_answered_by_the_id_it_claims(world, partner):
    event = cloud_event("clinic-a", {"not": "a referral"}, partner_id=partner.partner_id)
    del event["tenantid"]
    partner.publish(event)

    status = wait_until(lambda: partner.statuses(), timeout=15, message="the rejection")[0]
    assert status["type"] == "referral.rejected"
    assert status["data"]["partner_referral_id"] is None
    assert status["data"]["answers"] == {"id": event["id"], "source": event["source"]}
    assert status["correlation_id"] == event["id"]


def test_a_referral_without_a_billable_code_is_held_the_partner_told_what_is_pending(
    world, partner, internal_events
):
    partner.refer("clinic-a", bad_codes(fhir_referral("REF-H")), datacontenttype=FHIR)

    status = status_of(partner, "REF-H")
    assert status["type"] == "referral.received"
    assert status["routing_key"] == f"{partner.partner_id}.referral.received"
    assert status["data"]["status"] == "received"
    [pending] = status["data"]["pending"]
    assert pending["item"] == "diagnosis_code" and "X99.99" not in pending.get("patient_ids", [])
    assert (world.count("referrals", status="needs_review"), world.count("patients")) == (1, 0)
    assert internal_events.events("referral.accepted") == []


def test_a_5_mb_message_is_dead_lettered_unread_the_partner_told_and_the_next_one_accepted(
    world, partner, rabbit_admin, vhost
):
    """Property 16 (limits) for AMQP: `MAX_EVENT_BYTES`, with intake's partner consumer."""
    huge = cloud_event("clinic-a", native_referral(partner_referral_id="REF-HUGE"),
                       partner_id=partner.partner_id)  # fmt: skip
    body = padded(huge)
    partner.publish(body)
    partner.refer("clinic-a", native_referral(partner_referral_id="REF-NEXT"))

    assert status_of(partner, "REF-NEXT")["type"] == "referral.accepted"
    [letter] = wait_until(
        lambda: rabbit_admin.get_messages(vhost, DLQ, 5, truncate=100),
        timeout=15,
        message="the dead letter",
    )
    assert letter["properties"]["headers"][REASON_HEADER] == (
        f"referral refused: body: body is too large: {len(body)} bytes, more than the 2097152 "
        "an event may have"
    )
    [refused] = [s for s in partner.statuses() if s["type"] == "referral.rejected"]
    assert refused["data"]["reasons"][0]["field"] == "body"
    assert [r["partner_referral_id"] for r in world.db.referrals.find({})] == ["REF-NEXT"]
