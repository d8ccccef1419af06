"""Where a message was first published, and by whom, through every retry and dead-letter hop.

The broker vouches for the publisher only on the first delivery: the AMQP `user_id` property,
which RabbitMQ checks against the publishing connection's user. A message the consumer sends on
(to a retry queue, to the DLQ, or moved back from the DLQ) is republished by the service through
`dlx` and cannot carry the partner's `user_id` (the broker would refuse it). So at first receipt
the consumer writes the origin into headers of its own, and a message that comes back through
`dlx` is judged by them, exactly as the original was:

- `x-original-user-id`: the broker-validated `user_id` of the first publish ("" if none);
- `x-original-exchange`, `x-original-routing-key`: where it was first published;
- `x-original-forged-headers`: on a copy of a refused forgery (below), which headers were forged,
  so a retried copy is refused just as the original was.

These headers are trusted only on messages that arrived through `dlx`, which only the services
may publish to (partners may write to `partner.referrals` alone). A message that arrives any
other way carrying one of them was forged by its publisher: `Origin.forged` names them, and
`Origin.check` refuses it. A message that still carries the broker's `user_id` was never
republished by a service (e.g. dead-lettered by the broker at its delivery limit): its `user_id`
and the broker's `x-death` record are its origin, whatever its headers say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.events.envelope import InvalidEvent
from shared.events.topology import DEAD_LETTER_EXCHANGE

ORIGINAL_USER_ID_HEADER = "x-original-user-id"
ORIGINAL_EXCHANGE_HEADER = "x-original-exchange"
ORIGINAL_ROUTING_KEY_HEADER = "x-original-routing-key"
FORGED_HEADERS_HEADER = "x-original-forged-headers"
ORIGIN_HEADERS = (
    ORIGINAL_USER_ID_HEADER,
    ORIGINAL_EXCHANGE_HEADER,
    ORIGINAL_ROUTING_KEY_HEADER,
    FORGED_HEADERS_HEADER,
)


@dataclass(frozen=True)
class Origin:
    """The first publish of a message: its exchange, routing key and broker-validated user."""

    exchange: str
    routing_key: str
    user_id: str | None
    forged: tuple[str, ...] = ()
    """Origin headers the publisher set itself on a message that did not come through `dlx`."""

    def stamp(self, headers: dict[str, Any]) -> dict[str, Any]:
        """`headers` for a republished copy: whatever origin headers they had, replaced by this origin."""
        stamped = {k: v for k, v in headers.items() if k not in ORIGIN_HEADERS}
        stamped.update(
            {
                ORIGINAL_EXCHANGE_HEADER: self.exchange,
                ORIGINAL_ROUTING_KEY_HEADER: self.routing_key,
                ORIGINAL_USER_ID_HEADER: self.user_id or "",
            }
        )
        if self.forged:
            stamped[FORGED_HEADERS_HEADER] = ",".join(self.forged)
        return stamped

    def check(self) -> None:
        """Refuse (InvalidEvent) a message whose publisher set origin headers of its own."""
        if self.forged:
            names = ", ".join(self.forged)
            raise InvalidEvent(
                f"header(s) {names} may be set only by the clinic's services; publish without "
                "them (the AMQP user_id property says who you are)"
            )


def origin_of(message: Any) -> Origin:
    """The origin of a delivered message (a kombu or py-amqp message), as the broker vouched."""
    info = message.delivery_info or {}
    headers = message.headers or {}
    broker_user = message.properties.get("user_id") or None
    set_by_publisher = tuple(name for name in ORIGIN_HEADERS if name in headers)
    if info.get("exchange") != DEAD_LETTER_EXCHANGE:  # straight from its publisher
        exchange, routing_key = info.get("exchange", ""), info.get("routing_key", "")
        return Origin(exchange, routing_key, broker_user, set_by_publisher)
    if broker_user is not None:  # dead-lettered by the broker, never republished by a service
        death = _first_death(headers)
        keys = death.get("routing-keys") or [""]
        return Origin(str(death.get("exchange") or ""), str(keys[0]), broker_user, set_by_publisher)
    forged = str(headers.get(FORGED_HEADERS_HEADER) or "")
    return Origin(  # republished by a service: the origin it recorded at first receipt
        exchange=str(headers.get(ORIGINAL_EXCHANGE_HEADER) or ""),
        routing_key=str(headers.get(ORIGINAL_ROUTING_KEY_HEADER) or ""),
        user_id=str(headers.get(ORIGINAL_USER_ID_HEADER) or "") or None,
        forged=tuple(name for name in forged.split(",") if name),
    )


def _first_death(headers: dict[str, Any]) -> dict[str, Any]:
    """The broker's record of the message's first dead-lettering (`x-death` is newest first)."""
    deaths = headers.get("x-death") or []
    return deaths[-1] if deaths and isinstance(deaths[-1], dict) else {}
