"""The notifications service as real processes (gunicorn API, workers) against the real RabbitMQ,
the MongoDB stand-in, a real SMTP server and the fake SMS provider. This test plays intake and
planning: it publishes their events to their exchanges."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from services.notifications.repository.tenant_configs import TenantConfigs
from shared.mongo import Mongo
from testkit.fakes import FakeSmsProvider
from testkit.processes import Api
from testkit.smtp import smtp_server
from testkit.waiting import wait_until
from tests.e2e.notifications.processes import TunedWorker
from tests.support.notifications_events import (
    OtherServices,
    location_upserted,
    referral_accepted,
    session_event,
    staff_key,
)

SMS_KEY = "e2e-sms-key"
PATIENT, REFERRER, STAFF = "maria@example.org", "dr.lee@practice.example", "desk@clinic.example"
PHONE = "+12125550142"


@pytest.fixture
def outside() -> Iterator[tuple]:
    """The SMTP server and the SMS provider the service talks to."""
    with smtp_server() as (inbox, port), FakeSmsProvider(api_key=SMS_KEY) as sms:
        yield inbox, port, sms


@pytest.fixture
def env(service_env, outside) -> dict[str, str]:
    _, port, sms = outside
    return service_env(
        "notifications",
        SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMS_BASE_URL=sms.base_url,
        SMS_API_KEY=SMS_KEY, SCHEDULER_POLL_INTERVAL_S="0.2", OUTBOX_POLL_INTERVAL_S="0.2",
    )  # fmt: skip


@pytest.fixture
def settings(make_settings):
    return make_settings("notifications")


@pytest.fixture
def others(settings) -> Iterator[OtherServices]:
    publisher = OtherServices(settings)
    yield publisher
    publisher.close()


@pytest.fixture
def db(settings):
    mongo = Mongo(settings)
    yield mongo.db
    mongo.close()


def started(*processes) -> None:
    for process in processes:
        if isinstance(process, Api):
            process.wait_live()
        else:
            process.wait_started()


def test_referral_then_sessions_through_real_processes(
    env, tmp_path, outside, others, settings, db
):
    inbox, _, sms = outside
    worker = TunedWorker(env, tmp_path, "notifications-worker")
    api = Api("notifications", env, tmp_path)
    try:
        started(worker, api)
        raw, principal = staff_key("admin")
        others.publish(principal, location_upserted("loc-1", "America/New_York"))
        admin = {"Authorization": f"Bearer {raw}"}
        wait_until(  # before the first request: the API remembers unknown keys for 15 s
            lambda: db.principals.find_one({"key_id": principal.data["key_id"]}),
            message="the admin key replicated",
        )
        config = {
            "quiet_hours": None, "staff_emails": {"*": STAFF},
            "reminders": [
                {"key": "email-15s", "channel": "email", "minutes_before": 0.25},
                {"key": "sms-8s", "channel": "sms", "minutes_before": 8 / 60},
            ],
            "retry": {"max_attempts": 3, "first_delay_s": 0.5, "jitter_s": 0},
        }  # fmt: skip
        assert requests.put(f"{api.url}/config", json=config, headers=admin, timeout=5).ok

        # a referral accepted, redelivered: the welcome (with the intake link) arrives once
        sms.script(500, 201)  # the welcome text: a provider error first, then sent on retry
        referral = referral_accepted(
            "pat-1", email=PATIENT, phone=PHONE, consent=("email", "sms"), referrer_email=REFERRER
        )
        others.publish(referral, referral)
        wait_until(lambda: inbox.to(PATIENT) and inbox.to(REFERRER), message="welcome, referrer")
        [welcome] = inbox.to(PATIENT)
        assert "https://intake.example/forms/pat-1-token" in welcome.text
        assert inbox.to(REFERRER)[0].subject == "Referral REF-pat-1 accepted by clinic-north"
        wait_until(lambda: sms.sent, message="the welcome text, after a retry")
        assert sms.requests == 2 and len(sms.sent) == 1

        # two sessions scheduled; the second cancelled: only the first one's reminders go out
        starts = datetime.now(UTC) + timedelta(seconds=30)
        first = session_event("session.scheduled", "ses-1", "pat-1", starts)
        second = session_event("session.scheduled", "ses-2", "pat-1", starts)
        others.publish(first, second, first)
        wait_until(
            lambda: len([m for m in inbox.to(PATIENT) if "confirmed" in m.subject]) == 2,
            message="two confirmations",
        )
        others.publish(
            session_event("session.cancelled", "ses-2", "pat-1", starts, cancelled_by="clinic")
        )
        wait_until(
            lambda: inbox.to(PATIENT)[-1].subject == "clinic-north had to cancel your appointment",
            message="the cancellation",
        )
        assert worker.stop() == 0  # reminders are stored, not held by a process: restart
        worker = TunedWorker(env, tmp_path, "notifications-worker-restarted")
        started(worker)
        reminder = wait_until(
            lambda: [m for m in inbox.to(PATIENT) if m.subject.startswith("Reminder")],
            timeout=30,
            message="the 15 s email reminder",
        )
        arrived = datetime.now(UTC)
        due = starts - timedelta(seconds=15)
        assert due - timedelta(seconds=1) <= arrived <= due + timedelta(seconds=6), (due, arrived)
        wait_until(lambda: "reminder" in sms.sent[-1].body, timeout=20, message="the text reminder")
        assert datetime.now(UTC) >= starts - timedelta(seconds=8, milliseconds=500)

        log = requests.get(
            f"{api.url}/deliveries", params={"recipient": "patient:pat-1", "page_size": 100},
            headers=admin, timeout=5,
        ).json()["items"]  # fmt: skip
        second_reminders = [
            d for d in log if d["session_id"] == "ses-2" and d["kind"] == "reminder"
        ]
        assert sorted(d["status"] for d in second_reminders) == ["cancelled", "cancelled"]
        assert len(reminder) == 1 and len([b for b in sms.sent if "reminder" in b.body]) == 1
        ids = Counter(mail.message_id for mail in inbox.mails)
        assert max(ids.values()) == 1, ids
    finally:
        worker.stop()
        api.stop()


def test_two_workers_and_one_killed_mid_send_deliver_everything_once(
    env, tmp_path, outside, others, settings, db
):
    inbox, _, _ = outside
    TenantConfigs(db).put("clinic-north", {"quiet_hours": None}, datetime.now(UTC))
    workers = [TunedWorker(env, tmp_path, f"notifications-worker-{i}") for i in (1, 2)]
    try:
        started(*workers)
        inbox.hold_next(1)  # the first email is stuck in the SMTP conversation
        referrals = [referral_accepted(f"pat-{i}", email=f"p{i}@example.org") for i in range(12)]
        for referral in referrals:
            others.publish(referral, referral)  # each one redelivered
        wait_until(lambda: inbox.held, message="an email held mid-send")
        held_id = inbox.held[0].strip("<>").split("@")[0]
        holder = db.deliveries.find_one({"_id": held_id})["claimed_by"]
        victim = next(w for w in workers if f":{w.pid}:" in holder)
        victim.popen.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        inbox.release()
        started_at = time.monotonic()
        inbox.wait_for(24, timeout=60)
        wait_until(
            lambda: db.deliveries.count_documents({"status": {"$in": ["queued", "deferred"]}}) == 0,
            message="nothing pending",
        )
        counts = Counter(mail.message_id for mail in inbox.mails)
        assert len(counts) == 24 and set(counts.values()) == {1}, counts
        taken_over = db.deliveries.find_one({"_id": held_id})
        assert taken_over["status"] == "sent" and taken_over["attempts"] == 2
        assert f":{victim.pid}:" not in taken_over["claimed_by"]
        assert time.monotonic() - started_at < 30
    finally:
        for worker in workers:
            worker.stop()
