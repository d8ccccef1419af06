"""How the demo reaches the system, only through its public interfaces: HTTP as staff, the intake
ops CLI as ops, the RabbitMQ management API as the broker's operator, AMQP as a partner, and
a mailbox as the people who receive the emails.
"""

from __future__ import annotations

import email
import json
import mailbox
import os
import re
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from pathlib import Path
from typing import Any, Protocol

import requests
from kombu import Connection, Producer

ROOT = Path(__file__).resolve().parents[2]
MANAGEMENT_URL = "http://guest:guest@127.0.0.1:15672"
REFERRALS_EXCHANGE = "partner.referrals"


class DemoError(Exception):
    """A step did not happen as it should; the message says what and where to look."""


def wait_for[T](what: str, condition: Callable[[], T | None], timeout: float = 45.0) -> T:
    """Poll `condition` until it returns something truthy; DemoError at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise DemoError(
                f"timed out after {timeout:.0f} s waiting for {what} "
                "(the `make run` terminal shows what each process did)"
            )
        time.sleep(0.25)


# --- HTTP as staff ---------------------------------------------------------------------------


class Staff:
    """One staff member's API key, used on the three APIs."""

    def __init__(self, urls: Mapping[str, str], key: str, who: str) -> None:
        self.urls, self.who = urls, who
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def status_of(self, service: str, path: str) -> int:
        return self.session.get(f"{self.urls[service]}{path}", timeout=10).status_code

    def call(self, method: str, service: str, path: str, body: Any = None) -> Any:
        response = self.session.request(
            method, f"{self.urls[service]}{path}", json=body, timeout=30
        )
        if response.status_code >= 300:
            raise DemoError(
                f"{self.who}: {method} {service} {path} answered {response.status_code}: "
                f"{response.text[:600]}"
            )
        return response.json()

    def get(self, service: str, path: str) -> Any:
        return self.call("GET", service, path)

    def post(self, service: str, path: str, body: Any) -> Any:
        return self.call("POST", service, path, body)

    def put(self, service: str, path: str, body: Any) -> Any:
        return self.call("PUT", service, path, body)


def readiness_problems(urls: Mapping[str, str]) -> list[str]:
    """What keeps the stack from being used: a service that does not answer or is not ready."""
    problems = []
    for service, url in urls.items():
        try:
            response = requests.get(f"{url}/readyz", timeout=5)
        except requests.RequestException:
            problems.append(f"{service} does not answer at {url}")
            continue
        if response.status_code != 200:
            problems.append(f"{service} at {url} is not ready: {response.text[:300]}")
    return problems


# --- the intake ops CLI ----------------------------------------------------------------------


class OpsCli:
    """`python -m services.intake.cli ...` with the intake service's environment, as ops run it."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)

    def run(self, *args: str) -> tuple[int, dict[str, Any] | str]:
        result = subprocess.run(
            [sys.executable, "-m", "services.intake.cli", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            return result.returncode, (result.stderr or result.stdout).strip()
        return 0, json.loads(result.stdout)

    def __call__(self, *args: str) -> dict[str, Any]:
        code, output = self.run(*args)
        if code != 0 or not isinstance(output, dict):
            raise DemoError(f"intake ops CLI {args[0]} failed: {output}")
        return output


# --- the broker: its operator and a partner --------------------------------------------------


def vhost_of(amqp_url: str) -> str:
    path = urllib.parse.urlsplit(amqp_url).path
    return urllib.parse.unquote(path[1:]) if len(path) > 1 else "/"


def with_user(amqp_url: str, user: str, password: str) -> str:
    parts = urllib.parse.urlsplit(amqp_url)
    netloc = f"{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(password, safe='')}@"
    netloc += f"{parts.hostname}:{parts.port or 5672}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path or "//", "", ""))


class RabbitManagement:
    """RabbitMQ's management HTTP API, as the broker's operator."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.api = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api"
        self.auth = (parts.username or "guest", parts.password or "guest")

    def _call(self, method: str, path: str, body: Any = None) -> requests.Response:
        try:
            response = requests.request(
                method, f"{self.api}{path}", auth=self.auth, json=body, timeout=10
            )
        except requests.RequestException as error:
            raise DemoError(
                f"the RabbitMQ management API does not answer at {self.api} ({error}); "
                "set RABBITMQ_MANAGEMENT_URL if it listens elsewhere"
            ) from None
        if response.status_code >= 300 and not (method == "GET" and response.status_code == 404):
            raise DemoError(f"RabbitMQ management {method} {path}: {response.status_code}")
        return response

    def set_partner_user(self, partner_id: str, password: str, vhost: str) -> None:
        """The partner's user with the least permissions (deploy/rabbitmq/definitions.json)."""
        user, host = _quote(partner_id), _quote(vhost)
        self._call("PUT", f"/users/{user}", {"password": password, "tags": ""})
        self._call(
            "PUT",
            f"/permissions/{host}/{user}",
            {
                "configure": "^$",
                "write": r"^partner\.referrals$",
                "read": rf"^partner\.{partner_id}\.status$",
            },
        )
        self._call(
            "PUT",
            f"/topic-permissions/{host}/{user}",
            {"exchange": REFERRALS_EXCHANGE, "write": rf"^{partner_id}\..+$", "read": "^$"},
        )

    def has_queue(self, vhost: str, queue: str) -> bool:
        return self._call("GET", f"/queues/{_quote(vhost)}/{_quote(queue)}").status_code == 200

    def delete_user(self, name: str) -> None:
        requests.delete(f"{self.api}/users/{_quote(name)}", auth=self.auth, timeout=10)


def _quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


class Partner:
    """A partner system on its own RabbitMQ user: publishes referrals, reads its status queue."""

    def __init__(self, partner_id: str, amqp_url: str) -> None:
        self.partner_id = partner_id
        self.status_queue = f"partner.{partner_id}.status"
        self.connection = Connection(amqp_url, transport_options={"confirm_publish": True})
        self.producer = Producer(self.connection.channel())
        self.received: list[dict[str, Any]] = []

    def publish(self, event: Mapping[str, Any]) -> None:
        """Persistent, confirmed, with `user_id` set: the broker vouches for who sent it."""
        self.producer.publish(
            json.dumps(event).encode(),
            exchange=REFERRALS_EXCHANGE,
            routing_key=f"{self.partner_id}.{event['type']}",
            user_id=self.partner_id,
            content_type="application/cloudevents+json",
            delivery_mode=2,
            message_id=event["id"],
        )

    def statuses(self) -> list[dict[str, Any]]:
        """Every status event received so far; takes (and acks) what waits in the queue."""
        channel = self.connection.channel()
        try:
            while (message := channel.basic_get(self.status_queue)) is not None:
                self.received.append(json.loads(message.body))
                channel.basic_ack(message.delivery_tag)
        finally:
            channel.close()
        return self.received

    def close(self) -> None:
        self.connection.release()


def cloud_event(partner_id: str, tenant_id: str, data: Any, datacontenttype: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": f"https://referrals.{partner_id}.example.org",
        "type": "referral.requested",
        "time": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "tenantid": tenant_id,
        "datacontenttype": datacontenttype,
        "data": data,
    }


# --- mail ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    key: str  # stable per message within its source
    to: tuple[str, ...]
    subject: str
    text: str


class MailSource(Protocol):
    def messages(self) -> Iterable[Mail]: ...


class MaildirSource:
    """The Maildir the development SMTP server of `make run` writes (one file per message)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parsed: dict[str, Mail] = {}  # each file is read once

    def messages(self) -> list[Mail]:
        if not (self.path / "new").is_dir():
            return []
        box = mailbox.Maildir(self.path, create=False)
        for key in box.iterkeys():
            if key not in self.parsed:
                try:
                    message = email.message_from_bytes(box.get_bytes(key), policy=policy.default)
                except (KeyError, FileNotFoundError):  # moved by a mail client meanwhile
                    continue
                self.parsed[key] = as_mail(key, message)
        return sorted(self.parsed.values(), key=lambda mail: received_order(mail.key))


def received_order(key: str) -> tuple[int, int, str]:
    """Maildir keys start `<unix seconds>.M<microseconds>...`: sort by time received."""
    found = re.match(r"^(\d+)\.M(\d+)", key)
    return (int(found[1]), int(found[2]), key) if found else (0, 0, key)


def as_mail(key: str, message: email.message.Message) -> Mail:
    body = message.get_body(("plain",)) if isinstance(message, email.message.EmailMessage) else None
    recipients = [a.strip() for a in str(message.get("To", "")).split(",") if a.strip()]
    return Mail(
        key=key,
        to=tuple(recipients),
        subject=str(message.get("Subject", "")).strip(),
        text=body.get_content() if body is not None else "",
    )


class Inbox:
    """The messages a source received since this demo run began."""

    def __init__(self, source: MailSource) -> None:
        self.source = source
        self.before = {mail.key for mail in source.messages()}

    def new(self) -> list[Mail]:
        return [mail for mail in self.source.messages() if mail.key not in self.before]

    def to(self, address: str, subject_has: str = "") -> list[Mail]:
        return [
            mail
            for mail in self.new()
            if any(address in recipient for recipient in mail.to)
            and subject_has.lower() in mail.subject.lower()
        ]


def management_url(env: Mapping[str, str]) -> str:
    return env.get("RABBITMQ_MANAGEMENT_URL") or os.environ.get(
        "RABBITMQ_MANAGEMENT_URL", MANAGEMENT_URL
    )
