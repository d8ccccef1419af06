"""The local RabbitMQ for tests: a fresh vhost per test through the management HTTP API."""

from __future__ import annotations

import os
import subprocess
import urllib.parse
import uuid

import requests

MANAGEMENT_URL = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")
AMQP_BASE = os.environ.get("TEST_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")


class RabbitAdmin:
    def __init__(self, base: str) -> None:
        parts = urllib.parse.urlsplit(base)
        self.base = f"{parts.scheme}://{parts.hostname}:{parts.port}/api"
        self.auth = (parts.username or "guest", parts.password or "guest")

    def _call(self, method: str, path: str, **kwargs):
        response = requests.request(
            method, f"{self.base}{path}", auth=self.auth, timeout=10, **kwargs
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def create_vhost(self, name: str | None = None) -> str:
        name = name or f"test-{uuid.uuid4().hex[:12]}"
        quoted = urllib.parse.quote(name, safe="")
        self._call("PUT", f"/vhosts/{quoted}", json={"default_queue_type": "quorum"})
        self._call(
            "PUT",
            f"/permissions/{quoted}/{self.auth[0]}",
            json={"configure": ".*", "write": ".*", "read": ".*"},
        )
        return name

    def delete_vhost(self, name: str) -> None:
        requests.delete(
            f"{self.base}/vhosts/{urllib.parse.quote(name, safe='')}", auth=self.auth, timeout=30
        )

    def queue(self, vhost: str, queue: str) -> dict:
        return self._call(
            "GET",
            f"/queues/{urllib.parse.quote(vhost, safe='')}/{urllib.parse.quote(queue, safe='')}",
        )

    def queues(self, vhost: str) -> list[dict]:
        return self._call("GET", f"/queues/{urllib.parse.quote(vhost, safe='')}")

    def get_messages(self, vhost: str, queue: str, count: int = 100) -> list[dict]:
        """Peek at messages (requeued afterwards)."""
        return self._call(
            "POST",
            f"/queues/{urllib.parse.quote(vhost, safe='')}/{urllib.parse.quote(queue, safe='')}/get",
            json={"count": count, "ackmode": "ack_requeue_true", "encoding": "auto"},
        )

    def add_user(
        self, name: str, password: str, vhost: str, configure: str, write: str, read: str
    ) -> None:
        self._call(
            "PUT",
            f"/users/{urllib.parse.quote(name, safe='')}",
            json={"password": password, "tags": ""},
        )
        self._call(
            "PUT",
            f"/permissions/{urllib.parse.quote(vhost, safe='')}/{urllib.parse.quote(name, safe='')}",
            json={"configure": configure, "write": write, "read": read},
        )

    def delete_user(self, name: str) -> None:
        requests.delete(
            f"{self.base}/users/{urllib.parse.quote(name, safe='')}", auth=self.auth, timeout=10
        )

    def close_all_connections(self, vhost: str) -> int:
        connections = self._call("GET", f"/vhosts/{urllib.parse.quote(vhost, safe='')}/connections")
        for conn in connections:
            requests.delete(
                f"{self.base}/connections/{urllib.parse.quote(conn['name'], safe='')}",
                auth=self.auth,
                timeout=10,
                headers={"X-Reason": "test"},
            )
        return len(connections)


def amqp_url(vhost: str) -> str:
    return f"{AMQP_BASE}/{urllib.parse.quote(vhost, safe='')}"


def rabbitmqctl(*args: str, timeout: float = 120) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, timeout=timeout, capture_output=True)


def ready_messages(url: str, queue: str) -> int:
    """Messages ready in `queue` now (a passive declare: exact, unlike the management stats)."""
    from kombu import Connection

    with Connection(url) as conn:
        return conn.default_channel.queue_declare(queue, passive=True).message_count
