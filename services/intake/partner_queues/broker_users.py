"""Partners' RabbitMQ users, through the broker's management HTTP API (`RABBITMQ_MANAGEMENT_URL`).

Each partner is a broker user named by its partner id, with the least it needs on the services'
virtual host (the one of `AMQP_URL`):

- configure: nothing (`^$`): the exchange and its queue exist; it declares nothing;
- write: the exchange `partner.referrals`, and there (a topic permission) only routing keys
  `<partner_id>.*`, so it cannot publish under another partner's id;
- read: its own status queue `partner.<partner_id>.status` only.

`provision` makes (or remakes) the user with a new password, its permissions and its status queue
(quorum, bound to `partner.status` with `<partner_id>.#`; the broker's `partner-status-queues`
policy caps it); `remove` deletes the user; `close_connections` closes what it has open. The
management URL carries an administrator's credentials: only the ops CLI uses this adapter.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

import requests

from shared.config import Settings
from shared.events.topology import PARTNER_REFERRALS_EXCHANGE, PARTNER_STATUS_EXCHANGE

from .status_queues import status_queue_name

TIMEOUT_S = 15


class BrokerAdminError(RuntimeError):
    """The management API refused or did not answer; the message says what was being done."""


def vhost_of(amqp_url: str) -> str:
    path = urllib.parse.urlsplit(amqp_url).path
    return urllib.parse.unquote(path[1:]) if len(path) > 1 else "/"


def permissions_of(partner_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """(vhost permissions, topic permission on partner.referrals) of a partner's user."""
    own = re.escape(partner_id)
    return (
        {
            "configure": "^$",
            "write": f"^{re.escape(PARTNER_REFERRALS_EXCHANGE)}$",
            "read": f"^{re.escape(status_queue_name(partner_id))}$",
        },
        {"exchange": PARTNER_REFERRALS_EXCHANGE, "write": rf"^{own}\..+$", "read": "^$"},
    )


class PartnerBrokerUsers:
    """The management API of one broker, for the partners of one virtual host."""

    def __init__(self, management_url: str, vhost: str) -> None:
        parts = urllib.parse.urlsplit(management_url)
        self.base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api"
        self.auth = (
            urllib.parse.unquote(parts.username or ""),
            urllib.parse.unquote(parts.password or ""),
        )
        self.vhost = vhost

    @classmethod
    def from_settings(cls, settings: Settings) -> PartnerBrokerUsers:
        url = settings.own.rabbitmq_management_url
        if not url:
            raise BrokerAdminError(
                "RABBITMQ_MANAGEMENT_URL is not set (http://<admin>:<password>@<host>:15672)"
            )
        return cls(url, vhost_of(settings.amqp_url))

    def check(self) -> None:
        """The API answers, with an administrator's rights, and the virtual host exists."""
        self._call("GET", f"/vhosts/{_q(self.vhost)}", f"read the virtual host {self.vhost!r}")

    def provision(self, partner_id: str, password: str) -> None:
        """The partner's user with this password, its least permissions and its status queue."""
        permissions, topic = permissions_of(partner_id)
        user, vhost = _q(partner_id), _q(self.vhost)
        self._call("PUT", f"/users/{user}", "create the user", {"password": password, "tags": ""})
        self._call("PUT", f"/permissions/{vhost}/{user}", "set its permissions", permissions)
        self._call("PUT", f"/topic-permissions/{vhost}/{user}", "limit its routing keys", topic)
        self.declare_status_queue(partner_id)

    def declare_status_queue(self, partner_id: str) -> None:
        queue, vhost = _q(status_queue_name(partner_id)), _q(self.vhost)
        exchange = {"type": "topic", "durable": True, "auto_delete": False}
        self._call("PUT", f"/exchanges/{vhost}/{_q(PARTNER_STATUS_EXCHANGE)}", "", exchange)
        arguments = {"durable": True, "auto_delete": False, "arguments": {"x-queue-type": "quorum"}}
        self._call("PUT", f"/queues/{vhost}/{queue}", "declare its status queue", arguments)
        binding = {"routing_key": f"{partner_id}.#"}
        path = f"/bindings/{vhost}/e/{_q(PARTNER_STATUS_EXCHANGE)}/q/{queue}"
        self._call("POST", path, "bind its status queue", binding)

    def remove(self, partner_id: str) -> None:
        """Delete the partner's user (and with it its permissions); gone already is fine."""
        self._call("DELETE", f"/users/{_q(partner_id)}", "delete the user", missing_ok=True)

    def close_connections(self, partner_id: str) -> int:
        """Close every connection the partner's user has open; how many there were."""
        found = self._call("GET", f"/vhosts/{_q(self.vhost)}/connections", "list connections")
        mine = [c["name"] for c in found or [] if c.get("user") == partner_id]
        for name in mine:
            self._call(
                "DELETE",
                f"/connections/{_q(name)}",
                "close a connection",
                headers={"X-Reason": "partner credentials changed"},
                missing_ok=True,
            )
        return len(mine)

    def _call(
        self,
        method: str,
        path: str,
        doing: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        try:
            response = requests.request(
                method,
                f"{self.base}{path}",
                auth=self.auth,
                json=body,
                headers=headers,
                timeout=TIMEOUT_S,
            )
        except requests.RequestException as error:
            raise BrokerAdminError(f"RabbitMQ management API at {self.base}: {error}") from None
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise BrokerAdminError(
                f"RabbitMQ management API refused to {doing or path}: "
                f"{response.status_code} {response.text[:200]}"
            )
        return response.json() if response.content else None


def _q(name: str) -> str:
    return urllib.parse.quote(name, safe="")
