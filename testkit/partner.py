"""A partner system: its own RabbitMQ user, publishing referrals (CloudEvents) to
partner.referrals and reading the status events of its own queue."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from kombu import Connection, Producer

from testkit import rabbit
from testkit.rabbit import REFERRALS_EXCHANGE, RabbitAdmin

FHIR = "application/fhir+json"
NATIVE = "application/json"


def cloud_event(
    tenant_id: str,
    data: Any,
    *,
    type: str = "referral.requested",
    datacontenttype: str = NATIVE,
    partner_id: str = "partner",
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": uuid.uuid4().hex,
        "source": f"partner/{partner_id}",
        "type": type,
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": datacontenttype,
        "tenantid": tenant_id,
        "data": data,
    }


def answered_reference(status: dict[str, Any]) -> str | None:
    """The partner's own referral id a status event is about: native data names it, a FHIR
    Task names the partner's ServiceRequest in `focus`."""
    data = status.get("data") or {}
    if status.get("datacontenttype") == FHIR:
        return ((data.get("focus") or {}).get("identifier") or {}).get("value")
    return data.get("partner_referral_id")


def referral_id_of(status: dict[str, Any]) -> str | None:
    """The clinic's referral id a status event names: native data names it, a FHIR Task names
    it as its identifier (None: a refused message, of which nothing was stored)."""
    data = status.get("data") or {}
    if status.get("datacontenttype") == FHIR:
        return next((i.get("value") for i in data.get("identifier") or []), None)
    return data.get("referral_id")


class Partner:
    """A partner connected as its RabbitMQ user (`amqp_url` carries its credentials)."""

    def __init__(self, partner_id: str, amqp_url: str) -> None:
        self.partner_id = partner_id
        self.url = amqp_url
        self.connection = Connection(amqp_url, transport_options={"confirm_publish": True})
        self.producer = Producer(self.connection.channel())
        self.received: list[dict[str, Any]] = []

    @property
    def status_queue(self) -> str:
        return f"partner.{self.partner_id}.status"

    def publish(
        self,
        event: dict[str, Any] | bytes,
        *,
        routing_key: str | None = None,
        user_id: str | None = "self",
        headers: dict[str, Any] | None = None,
    ) -> None:
        """Persistent and confirmed; `user_id` (the partner's own unless told) lets the broker
        vouch for who sent it."""
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        kind = (
            event.get("type", "referral.requested")
            if isinstance(event, dict)
            else "referral.requested"
        )
        options = {"user_id": self.partner_id if user_id == "self" else user_id}
        self.producer.publish(
            body,
            exchange=REFERRALS_EXCHANGE,
            routing_key=routing_key or f"{self.partner_id}.{kind}",
            content_type="application/cloudevents+json",
            delivery_mode=2,
            message_id=uuid.uuid4().hex,
            headers=headers or {},
            **{k: v for k, v in options.items() if v is not None},
        )

    def refer(
        self,
        tenant_id: str,
        data: Any,
        *,
        datacontenttype: str = NATIVE,
        type: str = "referral.requested",
    ) -> dict[str, Any]:
        event = cloud_event(
            tenant_id, data, type=type, datacontenttype=datacontenttype, partner_id=self.partner_id
        )
        self.publish(event)
        return event

    def statuses(self) -> list[dict[str, Any]]:
        """Every status event received so far (taking what waits in the partner's queue)."""
        self.received.extend(self.take_status())
        return self.received

    def status_of(self, partner_referral_id: str) -> dict[str, Any] | None:
        """The first status event received about one of its referrals (None: none yet)."""
        return next(
            (s for s in self.statuses() if answered_reference(s) == partner_referral_id), None
        )

    def take_status(self, limit: int = 100) -> list[dict[str, Any]]:
        """Status events waiting in the partner's own queue, consumed as the partner."""
        taken = []
        channel = self.connection.channel()
        try:
            for _ in range(limit):
                message = channel.basic_get(self.status_queue, no_ack=True)
                if message is None:
                    break
                taken.append(
                    {
                        "routing_key": message.delivery_info["routing_key"],
                        "correlation_id": message.properties.get("correlation_id"),
                        **json.loads(message.body),
                    }
                )
        finally:
            channel.close()
        return taken

    def close(self) -> None:
        self.connection.release()


class PartnerSystem(Partner):
    """A partner whose RabbitMQ user (`RabbitAdmin.add_partner_user`) is made for it on this
    broker's `vhost`, and removed again by `close()`."""

    def __init__(self, admin: RabbitAdmin, vhost: str, partner_id: str | None = None) -> None:
        self.admin, self.vhost = admin, vhost
        partner_id = partner_id or f"partner-{uuid.uuid4().hex[:8]}"
        self.password = uuid.uuid4().hex
        admin.add_partner_user(partner_id, self.password, vhost)
        url = rabbit.with_user(rabbit.amqp_url(vhost), partner_id, self.password)
        super().__init__(partner_id, url)

    def has_status_queue(self) -> bool:
        """Whether intake has declared the partner's own status queue (it does once it knows it)."""
        return self.admin.has_queue(self.vhost, self.status_queue)

    def close(self) -> None:
        super().close()
        self.admin.delete_user(self.partner_id)
