"""Staff hear of failed deliveries in one report per inbox per period, listing every failure
once: across senders, a dead worker and a restart (real SMTP server, real stand-in database)."""

from __future__ import annotations

import threading
from datetime import timedelta

from services.notifications.domain.failure_digest import DIGEST_PERIOD
from services.notifications.repository.deliveries import DeliveryStore, sent_update
from testkit.waiting import wait_until
from tests.integration.notifications.harness import NO_QUIET_HOURS, NOON_UTC, InProcessNotifications
from tests.support.notifications_events import referral_accepted

STAFF = "office@clinic.example"
PERIOD_END = NOON_UTC + DIGEST_PERIOD  # NOON_UTC starts a period


def undeliverable(patient_id: str):
    """A welcome by email to a patient with no email address on file: it fails for good."""
    return referral_accepted(patient_id, email=None, consent=("email",), referrer_email=None)


def reports(inbox):
    return [m for m in inbox.to(STAFF) if m.subject.endswith("could not be delivered")]


def fail_welcomes(service, patients, *, every_s: float = 60) -> None:
    for patient in patients:
        service.handle(undeliverable(patient))
        service.send_due()
        service.clock.advance(seconds=every_s)


def test_failures_to_one_inbox_within_a_period_are_one_report_listing_each(service, inbox):
    service.configure(**NO_QUIET_HOURS, staff_emails={"*": STAFF})
    patients = [f"pat-{i}" for i in range(1, 6)]
    fail_welcomes(service, patients)  # 16:00 to 16:04
    assert len(service.deliveries(audience="patient", status="failed")) == 5
    assert reports(inbox) == []  # the period is not over

    service.at(PERIOD_END).send_due()
    [report] = reports(inbox)
    assert report.subject == "5 messages could not be delivered"
    lines = report.text.splitlines()
    assert lines[:2] == ["5 messages could not be delivered:", "  5 x email, patient_welcome"]
    assert report.text.count("An email message could not be delivered after 1 attempt.") == 5
    listed = [line.split()[-1] for line in lines if "Recipient:" in line]
    assert listed == [f"patient:{p}" for p in patients]
    [sent] = service.deliveries(kind="failure_report")
    assert sent["status"] == "sent" and sent["_id"] in report.message_id
    notices = service.deliveries(kind="failure_notice")
    assert {(n["status"], n["report"]) for n in notices} == {("sent", sent["_id"])}

    service.at(PERIOD_END + timedelta(minutes=5)).send_due()  # 16:20: a failure of the next period
    service.handle(undeliverable("pat-6"))
    service.send_due()
    assert len(reports(inbox)) == 1
    service.at(PERIOD_END + DIGEST_PERIOD).send_due()
    later = reports(inbox)[1]
    assert later.subject == "An email message could not be delivered"
    assert "patient:pat-6" in later.text and "patient:pat-1" not in later.text
    assert len(reports(inbox)) == 2


def test_two_senders_at_the_end_of_the_period_send_one_report(settings, db, clock, inbox):
    service = InProcessNotifications(settings, db, clock, senders=2)
    service.configure(**NO_QUIET_HOURS, staff_emails={"*": STAFF})
    fail_welcomes(service, [f"pat-{i}" for i in range(8)], every_s=10)
    clock.set(PERIOD_END)
    stop = threading.Event()
    threads = [threading.Thread(target=loop.run, args=(stop,)) for loop in service.senders]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: reports(inbox), message="the report")
        wait_until(
            lambda: {d["status"] for d in service.deliveries(kind="failure_notice")} == {"sent"},
            message="every notice reported",
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    [report] = reports(inbox)
    assert report.subject == "8 messages could not be delivered"


def test_a_report_held_by_a_worker_that_died_goes_out_once_after_a_restart(
    settings, db, clock, inbox
):
    first = InProcessNotifications(settings, db, clock)
    first.configure(**NO_QUIET_HOURS, staff_emails={"*": STAFF})
    fail_welcomes(first, ["pat-1", "pat-2", "pat-3"])
    clock.set(PERIOD_END)
    store = DeliveryStore(db.deliveries)
    held = store.claim(clock(), "worker-that-died", lease_s=30)
    assert held is not None and held["kind"] == "failure_report"
    assert len(store.gather_notices(held)) == 3  # then it died, before sending

    restarted = InProcessNotifications(settings, db, clock)  # a new process: nothing in memory
    assert restarted.send_due() == 0  # the dead worker's lease still holds
    clock.advance(seconds=30)
    assert restarted.send_due() == 1
    [report] = reports(inbox)
    assert report.subject == "3 messages could not be delivered"
    assert not store.finish(held, sent_update(clock(), "late")), "a stale claim cannot record"
    clock.advance(minutes=30)
    assert restarted.send_due() == 0 and len(reports(inbox)) == 1


def test_a_failure_recorded_as_its_periods_report_goes_out_is_in_the_next_report(
    service, inbox, clock
):
    service.configure(**NO_QUIET_HOURS, staff_emails={"*": STAFF})
    fail_welcomes(service, ["pat-1"])
    store = DeliveryStore(service.db.deliveries)
    other_sender = store.claim(PERIOD_END, "other-worker", lease_s=3600)  # its clock is ahead
    assert other_sender is not None and len(store.gather_notices(other_sender)) == 1

    clock.set(PERIOD_END - timedelta(seconds=1))  # this one's is still in the period
    service.handle(undeliverable("pat-2"))
    service.send_due()
    [_, next_report] = service.deliveries(kind="failure_report")
    assert (next_report["status"], next_report["send_at"]) == (
        "queued", PERIOD_END + DIGEST_PERIOD,
    )  # fmt: skip
    service.at(PERIOD_END + DIGEST_PERIOD).send_due()
    [report] = reports(inbox)  # the other sender's report is still held: not sent by us
    assert report.subject == "An email message could not be delivered"
    assert "patient:pat-2" in report.text and "patient:pat-1" not in report.text
