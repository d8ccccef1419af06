"""The local RabbitMQ, as its operator: vhosts, users and queues through the management HTTP API,
and the AMQP URLs of a vhost and of a user.

`MANAGEMENT_URL` and `AMQP_BASE` come from RABBITMQ_MANAGEMENT_URL and TEST_AMQP_BASE (guest on
127.0.0.1 by default); `make test-docker` points them at the compose file's broker.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import requests

from testkit.errors import StepFailed
from testkit.waiting import wait_until

MANAGEMENT_URL = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")
AMQP_BASE = os.environ.get("TEST_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")
REFERRALS_EXCHANGE = "partner.referrals"


class RabbitAdmin:
    def __init__(self, base: str) -> None:
        parts = urllib.parse.urlsplit(base)
        self.base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api"
        self.auth = (parts.username or "guest", parts.password or "guest")

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return requests.request(
                method, f"{self.base}{path}", auth=self.auth, timeout=30, **kwargs
            )
        except requests.ConnectionError as error:
            raise StepFailed(
                f"the RabbitMQ management API does not answer at {self.base} ({error}); "
                "set RABBITMQ_MANAGEMENT_URL if it listens elsewhere"
            ) from None

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def create_vhost(self, name: str | None = None) -> str:
        name = name or f"test-{uuid.uuid4().hex[:12]}"
        self._call("PUT", f"/vhosts/{_quote(name)}", json={"default_queue_type": "quorum"})
        self._call(
            "PUT",
            f"/permissions/{_quote(name)}/{self.auth[0]}",
            json={"configure": ".*", "write": ".*", "read": ".*"},
        )
        return name

    def delete_vhost(self, name: str) -> None:
        self._request("DELETE", f"/vhosts/{_quote(name)}")

    def queue(self, vhost: str, queue: str) -> dict:
        return self._call("GET", f"/queues/{_quote(vhost)}/{_quote(queue)}")

    def has_queue(self, vhost: str, queue: str) -> bool:
        return self._request("GET", f"/queues/{_quote(vhost)}/{_quote(queue)}").status_code == 200

    def queues(self, vhost: str) -> list[dict]:
        return self._call("GET", f"/queues/{_quote(vhost)}")

    def get_messages(
        self, vhost: str, queue: str, count: int = 100, truncate: int | None = None
    ) -> list[dict]:
        """Peek at messages (requeued afterwards); `truncate`: at most so many bytes of each body."""
        options = {"count": count, "ackmode": "ack_requeue_true", "encoding": "auto"}
        if truncate is not None:
            options["truncate"] = truncate
        return self._call("POST", f"/queues/{_quote(vhost)}/{_quote(queue)}/get", json=options)

    def add_user(
        self, name: str, password: str, vhost: str, configure: str, write: str, read: str
    ) -> None:
        self._call("PUT", f"/users/{_quote(name)}", json={"password": password, "tags": ""})
        self._call(
            "PUT",
            f"/permissions/{_quote(vhost)}/{_quote(name)}",
            json={"configure": configure, "write": write, "read": read},
        )

    def add_partner_user(self, partner_id: str, password: str, vhost: str) -> None:
        """A partner's user with the least permissions (docs/compose.md, definitions.json): it
        declares nothing, publishes to partner.referrals with routing keys `<partner_id>.*`
        only, and reads its own status queue."""
        self.add_user(
            partner_id,
            password,
            vhost,
            configure="^$",
            write=r"^partner\.referrals$",
            read=rf"^partner\.{partner_id}\.status$",
        )
        self._call(
            "PUT",
            f"/topic-permissions/{_quote(vhost)}/{_quote(partner_id)}",
            json={"exchange": REFERRALS_EXCHANGE, "write": rf"^{partner_id}\..+$", "read": "^$"},
        )

    def delete_user(self, name: str) -> None:
        self._request("DELETE", f"/users/{_quote(name)}")

    def policies(self, vhost: str) -> list[dict]:
        return self._call("GET", f"/policies/{_quote(vhost)}")

    def connections(self, vhost: str) -> list[dict]:
        return self._call("GET", f"/vhosts/{_quote(vhost)}/connections")

    def close_all_connections(self, vhost: str) -> int:
        connections = self._call("GET", f"/vhosts/{_quote(vhost)}/connections")
        for conn in connections:
            self._request(
                "DELETE", f"/connections/{_quote(conn['name'])}", headers={"X-Reason": "test"}
            )
        return len(connections)


def _quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def amqp_url(vhost: str) -> str:
    return f"{AMQP_BASE}/{_quote(vhost)}"


def vhost_of(url: str) -> str:
    path = urllib.parse.urlsplit(url).path
    return urllib.parse.unquote(path[1:]) if len(path) > 1 else "/"


def with_user(url: str, user: str, password: str) -> str:
    """The AMQP URL `url` with another user's credentials (same host, port and vhost)."""
    parts = urllib.parse.urlsplit(url)
    netloc = f"{_quote(user)}:{_quote(password)}@{parts.hostname}:{parts.port or 5672}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path or "//", "", ""))


def management_url(env: Mapping[str, str]) -> str:
    """RABBITMQ_MANAGEMENT_URL of `env` (a service's environment), else `MANAGEMENT_URL`."""
    return env.get("RABBITMQ_MANAGEMENT_URL") or MANAGEMENT_URL


def rabbitmqctl(*args: str, timeout: float = 120) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, timeout=timeout, capture_output=True)


def queue_policies(vhost: str) -> list[tuple[str, str]]:
    """(queue, the policy the broker applies to it) for every queue of `vhost`, as the queues
    themselves report it (the management API's figures lag by seconds)."""
    done = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "--no-table-headers", "name", "policy"],
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    rows = [line.split("\t") for line in done.stdout.splitlines() if line.strip()]
    return [(row[0], row[1] if len(row) > 1 else "") for row in rows]


def rabbitmqctl_eval(expression: str, timeout: float = 30) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", "eval", expression],
        check=True,
        timeout=timeout,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@contextlib.contextmanager
def memory_alarm() -> Iterator[None]:
    """The node's memory alarm on (watermark 0: every publishing connection is blocked, as on a
    stalled broker), then the node's own watermark back. Only on a broker of the test's own
    (`rabbitmqctl` reaches RABBITMQ_NODENAME): it stalls every publisher of the node."""
    watermark = rabbitmqctl_eval("vm_memory_monitor:get_vm_memory_high_watermark().")
    rabbitmqctl("set_vm_memory_high_watermark", "0")
    try:
        wait_until(
            lambda: "memory" in rabbitmqctl_eval("rabbit_alarm:get_alarms()."),
            timeout=30,
            message="the memory alarm to be raised",
        )
        yield
    finally:
        rabbitmqctl("set_vm_memory_high_watermark", watermark if _number(watermark) else "0.4")
        wait_until(
            lambda: "memory" not in rabbitmqctl_eval("rabbit_alarm:get_alarms()."),
            timeout=30,
            message="the memory alarm to clear",
        )


def _number(text: str) -> bool:
    try:
        return float(text) > 0
    except ValueError:
        return False


def ready_messages(url: str, queue: str) -> int:
    """Messages ready in `queue` now (a passive declare: exact, unlike the management stats)."""
    from kombu import Connection

    with Connection(url) as conn:
        return conn.default_channel.queue_declare(queue, passive=True).message_count
