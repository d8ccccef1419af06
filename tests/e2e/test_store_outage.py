"""The store goes away under running APIs: every answer is 503 with Retry-After, never a 500.

The APIs run as real gunicorn processes against a MongoDB stand-in of this test's own (the
session's is shared by every test), which is killed (SIGKILL) mid-run. The first requests
after the kill meet pooled connections that are now closed (pymongo's `AutoReconnect`), the
later ones find no server (`ServerSelectionTimeoutError`): both are 503.
"""

from __future__ import annotations

import requests

from testkit.mongo import MongoStandin
from testkit.rabbit import amqp_url
from testkit.stack import LocalStack
from testkit.staff import StaffClient
from testkit.waiting import wait_until

# (service, method, path, body): reads and writes of every API, each of which touches the store.
CALLS = [
    ("intake", "GET", "/patients", None),
    ("intake", "GET", "/referrals", None),
    ("intake", "POST", "/admin/locations", {"name": "Annex", "timezone": "America/Chicago"}),
    ("planning", "GET", "/plans", None),
    ("planning", "GET", "/settings", None),
    ("notifications", "GET", "/deliveries", None),
    ("notifications", "GET", "/config", None),
]


def test_every_api_answers_503_with_retry_after_while_the_store_is_killed(
    mongo_db_name, vhost, tmp_path
):
    store = MongoStandin()
    stack = LocalStack(
        mongo_url=store.url,
        db_prefix=mongo_db_name,
        amqp_url=amqp_url(vhost),
        log_dir=tmp_path,
        smtp_port=9,
        extra_env={"MONGO_TIMEOUT_MS": "400"},
    )
    try:
        stack.start()
        stack.ops("create-tenant", "--name", "Outage Clinic", "--location", "Main:America/New_York")
        key = stack.ops(
            "create-key", "--tenant", "outage-clinic", "--role", "admin", "--name", "A"
        )["key"]
        staff = StaffClient(stack.urls, key)
        for service, method, path, _body in CALLS:  # the key reaches every service first
            if method != "GET":
                continue
            wait_until(
                lambda s=service, p=path: staff.status_of(s, p) == 200,
                timeout=30,
                message=f"{service} {path} to answer 200 with the admin key",
            )

        store.process.kill()
        store.process.wait(timeout=10)

        answers = []
        for _round in range(3):
            for service, method, path, body in CALLS:
                response = staff.session.request(
                    method, f"{stack.url(service)}{path}", json=body, timeout=30
                )
                answers.append((service, method, path, response))
        statuses = [(s, m, p, r.status_code) for s, m, p, r in answers]
        assert all(code == 503 for *_, code in statuses), statuses
        for *_, response in answers:
            assert int(response.headers["Retry-After"]) > 0
            body = response.json()
            assert body["code"] == 503 and body["status"] == "Service Unavailable"
            assert "database" in body["message"]
        logs = stack.logs()
        assert "AutoReconnect" in logs or "ServerSelectionTimeoutError" in logs, logs
        assert "unhandled error" not in logs, logs
        for api in stack.apis.values():
            assert requests.get(f"{api.url}/healthz", timeout=5).status_code == 200
    finally:
        stack.stop()
        store.stop()
