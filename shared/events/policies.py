"""Broker policies: length limits on every queue that could otherwise grow until the broker
runs out of memory or disk, with overflow `reject-publish` so that publishers wait, never lose.

A full queue refuses new messages (the publisher gets a `basic.nack`): the outbox relay keeps the
event pending and tries again about a second later (`shared.events.relay`), while events to
other queues keep flowing. `drop-head` (RabbitMQ's default overflow) would silently discard the
oldest messages: never used for a queue a consumer reads. The one exception is outside these
policies: each publisher's `<exchange>.unheard` sink of the types no service consumes, bounded by
its own arguments (100,000 messages, 7 days, drop-head; shared/events/topology.py).

Dead-lettering by the broker (an expired retry back to its queue, a message over its delivery
limit to the `.dlq`) keeps RabbitMQ's default strategy, at-most-once: measured on RabbitMQ 3.10,
a full quorum queue does not refuse dead-lettered messages (20 expired retries into a queue
limited to 2 all arrived), so a queue can exceed its limit by what its own retry queues hold,
which are limited themselves. `at-least-once` was measured to hold such messages back for
minutes once the target is full (2 of 16 came back within 240 s of the target having room):
not used.

| policy | queues | limits |
| --- | --- | --- |
| `service-queues` | `<service>.<purpose>` | 50,000 messages / 256 MiB |
| `retry-queues` | `<queue>.retry.<ms>ms` | 50,000 messages / 256 MiB |
| `dead-letter-queues` | `<queue>.dlq` | 100,000 messages / 512 MiB |
| `partner-status-queues` | `partner.<partner_id>.status` | 100,000 messages / 256 MiB, 14 days |

Policies cannot be set over AMQP: they come with the broker definitions
(`deploy/rabbitmq/definitions.json`, checked against this module by a test) or are applied by
the ops command `python -m services.intake.cli apply-broker-policies` (management API, an
administrator's credentials). Tests apply them with smaller `Limits` to fill a queue quickly.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

import requests

SERVICES = ("intake", "planning", "notifications")
MIB = 1024 * 1024
DAY_MS = 24 * 3600 * 1000
TIMEOUT_S = 15


class PolicyError(RuntimeError):
    """The management API refused or did not answer; the message says which policy."""


@dataclass(frozen=True)
class Limits:
    service_messages: int = 50_000
    service_bytes: int = 256 * MIB
    retry_messages: int = 50_000
    retry_bytes: int = 256 * MIB
    dead_letter_messages: int = 100_000
    dead_letter_bytes: int = 512 * MIB
    partner_status_messages: int = 100_000
    partner_status_bytes: int = 256 * MIB
    partner_status_ttl_ms: int = 14 * DAY_MS


@dataclass(frozen=True)
class Policy:
    name: str
    pattern: str
    definition: dict[str, Any]
    priority: int = 0
    apply_to: str = "queues"

    def body(self) -> dict[str, Any]:
        """The management API's body for `PUT /api/policies/<vhost>/<name>`."""
        return {
            "pattern": self.pattern,
            "apply-to": self.apply_to,
            "priority": self.priority,
            "definition": self.definition,
        }

    def definitions_entry(self, vhost: str) -> dict[str, Any]:
        """The entry of `policies` in a broker definitions file."""
        return {"vhost": vhost, "name": self.name, **self.body()}


_SERVICE_QUEUE = rf"({'|'.join(SERVICES)})\.[a-z0-9-]+"


def _waiting(messages: int, max_bytes: int, **more: Any) -> dict[str, Any]:
    return {
        "max-length": messages,
        "max-length-bytes": max_bytes,
        "overflow": "reject-publish",
        **more,
    }


def policies(limits: Limits = Limits()) -> tuple[Policy, ...]:
    """Every policy of the services' virtual host (their patterns do not overlap)."""
    return (
        Policy(
            "service-queues",
            f"^{_SERVICE_QUEUE}$",
            _waiting(limits.service_messages, limits.service_bytes),
        ),
        Policy(
            "retry-queues",
            rf"^{_SERVICE_QUEUE}\.retry\.[0-9]+ms$",
            _waiting(limits.retry_messages, limits.retry_bytes),
        ),
        Policy(
            "dead-letter-queues",
            rf"^{_SERVICE_QUEUE}\.dlq$",
            _waiting(limits.dead_letter_messages, limits.dead_letter_bytes),
        ),
        Policy(
            "partner-status-queues",
            r"^partner\..+\.status$",
            _waiting(
                limits.partner_status_messages,
                limits.partner_status_bytes,
                **{"message-ttl": limits.partner_status_ttl_ms},
            ),
        ),
    )


def apply(management_url: str, vhost: str, chosen: tuple[Policy, ...] | None = None) -> list[str]:
    """Set the policies on `vhost` through the management API (idempotent: a policy of the same
    name is replaced); returns their names."""
    parts = urllib.parse.urlsplit(management_url)
    base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api"
    auth = (urllib.parse.unquote(parts.username or ""), urllib.parse.unquote(parts.password or ""))
    applied = []
    for policy in chosen if chosen is not None else policies():
        path = f"/policies/{_q(vhost)}/{_q(policy.name)}"
        try:
            response = requests.put(
                f"{base}{path}", json=policy.body(), auth=auth, timeout=TIMEOUT_S
            )
        except requests.RequestException as error:
            raise PolicyError(f"RabbitMQ management API at {base}: {error}") from None
        if response.status_code >= 400:
            raise PolicyError(
                f"RabbitMQ management API refused policy {policy.name!r} on {vhost!r}: "
                f"{response.status_code} {response.text[:200]}"
            )
        applied.append(policy.name)
    return applied


def _q(name: str) -> str:
    return urllib.parse.quote(name, safe="")
