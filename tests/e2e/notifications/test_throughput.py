"""Figures for the closing note: notifications per second delivered to SMTP on the local stack,
and MongoDB commands per notification, with the shipped worker as a real process.

N accepted referrals (email consent, a referrer) make 2N emails. The rate is 2N over the time
from the first publish to the last email received; the commands are the worker's own
`mongo_commands_total` counter (pymongo command monitoring), from before the first event until
everything is sent and the outbox is drained. Printed as JSON (run with -s to see it).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime

from services.notifications.repository.tenant_configs import TenantConfigs
from shared.mongo import Mongo
from testkit.metrics import metric_samples
from testkit.processes import Worker, free_port
from testkit.smtp import smtp_server
from testkit.waiting import wait_until
from tests.support.notifications_events import OtherServices, referral_accepted

EVENTS = 100


def test_notifications_per_second_and_mongo_commands_per_notification(
    service_env, make_settings, tmp_path
):
    settings = make_settings("notifications")
    mongo = Mongo(settings)
    metrics_port = free_port()
    with smtp_server() as (inbox, smtp_port):
        env = service_env(
            "notifications", SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port),
            WORKER_METRICS_PORT=str(metrics_port),
        )  # fmt: skip
        worker = Worker("notifications", env, tmp_path)
        others = OtherServices(settings)
        try:
            TenantConfigs(mongo.db).put("clinic-north", {"quiet_hours": None}, datetime.now(UTC))
            wait_until(worker.heartbeat.exists, timeout=30, message="the worker started")
            metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
            before = wait_until(
                lambda: metric_samples(metrics_url, "mongo_commands_total"), message="metrics"
            )
            events = [
                referral_accepted(f"pat-{i}", email=f"patient{i}@example.org")
                for i in range(EVENTS)
            ]
            started = time.perf_counter()
            others.publish(*events)
            inbox.wait_for(2 * EVENTS, timeout=180)
            elapsed = time.perf_counter() - started
            wait_until(
                lambda: mongo.db.deliveries.count_documents({"outbox_due": {"$exists": True}}) == 0,
                timeout=60,
                message="the outbox drained",
            )
            after = metric_samples(metrics_url, "mongo_commands_total")
        finally:
            others.close()
            worker.stop()
            mongo.close()
    commands = Counter({k: after[k] - before.get(k, 0.0) for k in after})
    emails = len(inbox.mails)
    figures = {
        "events": EVENTS,
        "emails_delivered": emails,
        "seconds": round(elapsed, 2),
        "notifications_per_second": round(emails / elapsed, 1),
        "mongo_commands_per_notification": round(sum(commands.values()) / emails, 2),
        "mongo_commands_by_kind_per_notification": {
            label.split('"')[1]: round(count / emails, 2)
            for label, count in sorted(commands.items())
            if count
        },
    }
    print(json.dumps(figures, indent=2))
    assert emails == 2 * EVENTS
    assert len({mail.message_id for mail in inbox.mails}) == emails
