"""The sender against real local servers: retries with backoff, permanent failures told to staff,
atomic claims (two senders at once), leases that outlive a dead worker, signed webhooks."""

from __future__ import annotations

import threading

from prometheus_client import REGISTRY

from services.notifications.domain.failure_digest import DIGEST_PERIOD
from services.notifications.repository.deliveries import DeliveryStore, sent_update
from testkit.fakes import FakePartnerEndpoint, Reply
from testkit.waiting import wait_until
from tests.integration.notifications.harness import (
    FAST_RETRY,
    NO_QUIET_HOURS,
    NOON_UTC,
    InProcessNotifications,
)
from tests.support.notifications_events import referral_accepted

PHONE = "+12125550142"
STAFF = "office@clinic.example"
REPORT_TIME = NOON_UTC + DIGEST_PERIOD  # the end of the period the failures fall in


def texts_only(patient_id: str = "pat-1", **extra):
    return referral_accepted(
        patient_id, phone=PHONE, consent=("sms",), referrer_email=None, **extra
    )


def failure_reports(inbox):
    return [m for m in inbox.to(STAFF) if m.subject.endswith("could not be delivered")]


def failed_total(channel: str) -> float:
    return REGISTRY.get_sample_value("notifications_failed_total", {"channel": channel}) or 0.0


def test_an_sms_answered_500_then_200_is_delivered_once_after_a_retry(service, sms, clock):
    service.configure(**NO_QUIET_HOURS, **FAST_RETRY)
    sms.script(500, 201)
    service.handle(texts_only())
    assert service.send_due() == 1
    waiting = service.one(channel="sms", audience="patient")
    assert (waiting["status"], waiting["attempts"]) == ("queued", 1)
    assert "HTTP 500" in waiting["last_error"]
    assert (waiting["send_at"] - clock.now).total_seconds() == 1.0  # backoff from the tenant
    assert service.send_due() == 0  # not due yet
    clock.advance(seconds=1)
    assert service.send_due() == 1
    sent = service.one(channel="sms", audience="patient")
    assert (sent["status"], sent["attempts"]) == ("sent", 2)
    assert [m.id for m in sms.sent] == [sent["provider_answer"]] and sms.requests == 2


def test_a_permanent_4xx_fails_visibly_emits_notification_failed_and_tells_staff(
    service, sms, inbox, clock
):
    service.configure(**NO_QUIET_HOURS, **FAST_RETRY, staff_emails={"*": STAFF})
    sms.script(Reply(400, body={"error": "number cannot receive texts"}))
    before = failed_total("sms")
    service.handle(texts_only())
    service.send_due()
    failed = service.one(channel="sms", audience="patient")
    assert (failed["status"], failed["attempts"]) == ("failed", 1)
    assert "HTTP 400" in failed["last_error"] and "cannot receive" in failed["provider_answer"]
    [outcome] = failed["outbox"]
    assert outcome["routing_key"] == "notification.failed"
    assert outcome["event"]["data"]["reason"] == failed["last_error"]
    assert PHONE not in str(outcome)
    assert failed_total("sms") == before + 1
    assert service.one(kind="failure_notice")["status"] == "waiting"
    assert failure_reports(inbox) == []  # staff hear at the end of the quarter hour
    clock.set(REPORT_TIME)
    service.send_due()
    [told] = failure_reports(inbox)
    assert told.subject == "An SMS message could not be delivered"
    assert "patient:pat-1" in told.text and "HTTP 400" in told.text
    report = service.one(kind="failure_report")
    assert report["status"] == "sent"
    assert service.one(kind="failure_notice")["report"] == report["_id"]


def test_a_provider_that_stays_down_ends_in_failed_after_the_tenants_max_attempts(
    service, sms, clock
):
    service.configure(**NO_QUIET_HOURS, **FAST_RETRY)
    sms.script(503, 503, 503)
    service.handle(texts_only())
    for _ in range(3):
        service.send_due()
        clock.advance(seconds=10)
    failed = service.one(channel="sms", audience="patient")
    assert (failed["status"], failed["attempts"]) == ("failed", 3)
    assert failed["last_error"].startswith("gave up after 3 attempts")
    assert sms.sent == [] and sms.requests == 3


def test_two_senders_at_once_never_send_the_same_delivery(settings, db, clock, inbox):
    service = InProcessNotifications(settings, db, clock, senders=2)
    service.configure(**NO_QUIET_HOURS)
    for i in range(20):
        service.handle(referral_accepted(f"pat-{i}", email=f"p{i}@example.org"))
    stop = threading.Event()
    threads = [threading.Thread(target=loop.run, args=(stop,)) for loop in service.senders]
    for thread in threads:
        thread.start()
    try:
        inbox.wait_for(40, timeout=60)
        wait_until(lambda: not service.deliveries(status="queued"), message="all sent")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    ids = [mail.message_id for mail in inbox.mails]
    assert len(ids) == len(set(ids)) == 40
    sent = service.deliveries(status="sent")
    assert len(sent) == 40 and {d["attempts"] for d in sent} == {1}
    assert len({d["claimed_by"] for d in sent}) == 2  # both took part


def test_a_delivery_held_by_a_dead_worker_goes_out_once_when_its_lease_runs_out(
    service, inbox, clock
):
    service.configure(**NO_QUIET_HOURS)
    service.handle(referral_accepted("pat-1", email="maria@example.org", referrer_email=None))
    store = DeliveryStore(service.db.deliveries)
    held = store.claim(clock(), "worker-that-died", lease_s=30)
    assert held is not None
    assert service.send_due() == 0  # the lease still holds
    clock.advance(seconds=30)
    assert service.send_due() == 1
    assert len(inbox.mails) == 1
    assert not store.finish(held, sent_update(clock(), "late")), "a stale claim cannot record"
    assert service.one(_id=held["_id"])["attempts"] == 2


def test_a_delivery_that_keeps_killing_its_worker_ends_failed(service, inbox, clock):
    service.configure(**NO_QUIET_HOURS, **FAST_RETRY)
    service.handle(referral_accepted("pat-1", email="maria@example.org", referrer_email=None))
    store = DeliveryStore(service.db.deliveries)
    for _ in range(3):
        assert store.claim(clock(), "doomed", lease_s=5)
        clock.advance(seconds=5)
    service.send_due()
    failed = service.one(audience="patient", channel="email")
    assert (failed["status"], failed["last_error"]) == ("failed", "interrupted on every attempt")
    assert inbox.mails == []


def test_partners_get_a_signed_webhook_retried_after_a_503(service, clock):
    secret = "whsec-partner-9-0123456789"
    with FakePartnerEndpoint(secret) as partner:
        service.configure(
            **NO_QUIET_HOURS, **FAST_RETRY,
            partner_webhooks={"partner-9": {"url": partner.url, "secret": secret}},
        )  # fmt: skip
        referral = referral_accepted("pat-1", email="maria@example.org")
        referral.data["partner_id"], referral.data["partner_referral_id"] = "partner-9", "P-77"
        partner.script(503)
        service.handle(referral)
        service.send_due()
        clock.advance(seconds=1)
        service.send_due()
    delivery = service.one(channel="webhook")
    assert (delivery["status"], delivery["attempts"]) == ("sent", 2)
    assert [c.valid for c in partner.calls] == [True, True]
    assert {c.event_id for c in partner.calls} == {delivery["_id"]}
    assert partner.calls[1].json() == {
        "event_type": "referral.accepted", "status": "accepted", "partner_id": "partner-9",
        "partner_referral_id": "P-77", "referral_id": "ref-pat-1", "reasons": [],
    }  # fmt: skip


def test_a_patient_template_that_would_leak_clinical_detail_fails_instead_of_sending(
    service, sms, inbox
):
    service.configure(**NO_QUIET_HOURS, staff_emails={"*": STAFF})
    service.db.template_overrides.insert_one({  # stored behind the API's back: still safe
        "_id": "clinic-north#en#patient_welcome.sms.j2", "tenant_id": "clinic-north",
        "language": "en", "file": "patient_welcome.sms.j2",
        "source": "Your {{ diagnoses[0].display }} care starts soon. Reply STOP to opt out.",
    })  # fmt: skip
    service.handle(texts_only())
    service.send_due()
    failed = service.one(channel="sms", audience="patient")
    assert failed["status"] == "failed"  # an unknown name is an error, never a blank
    assert failed["last_error"] == "TemplateError: patient_welcome.sms.j2: 'diagnoses' is undefined"
    assert sms.requests == 0
    service.at(REPORT_TIME).send_due()
    assert [m.subject for m in failure_reports(inbox)] == ["An SMS message could not be delivered"]
