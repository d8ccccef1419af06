"""Publishing with confirms: `mandatory`, persistent, with a confirm timeout; never retried without bound.

`publish` returns once the broker confirmed the message, or raises:
- `Unroutable` when no queue was bound for it (NO_ROUTE, seen through `mandatory`);
- `Refused` when the broker nacked it: a queue it routes to is full (`reject-publish`, see
  `shared.events.policies`). The connection stays open; try again later;
- `PublishFailed` when the broker did not confirm within the timeout (a stalled broker: memory or
  disk alarm) or the connection failed. The publisher then drops its connection without the close
  handshake (a blocked broker never answers it) and opens a new one on the next call.

`close()` asks the broker to close the connection but waits at most `CLOSE_TIMEOUT_S` for its
answer, then drops the connection: closing never hangs, even while the broker blocks publishers.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from amqp.exceptions import MessageNacked
from kombu import Connection, Producer

from shared import broker
from shared.config import Settings
from shared.events.envelope import CONTENT_TYPE
from shared.events.metrics import PUBLISHED, REFUSED, UNROUTABLE

log = logging.getLogger("events.publisher")
CLOSE_TIMEOUT_S = 2.0


class PublishFailed(RuntimeError):
    pass


class Unroutable(PublishFailed):
    pass


class Refused(PublishFailed):
    """The broker nacked the message (a full queue with overflow `reject-publish`)."""


class ConfirmedPublisher:
    def __init__(self, settings: Settings, *, amqp_url: str | None = None) -> None:
        self._settings = settings
        self._amqp_url = amqp_url
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._returned: set[str] = set()

    def _ensure(self) -> Producer:
        if self._producer is None:
            connection = broker.connection(self._settings)
            if self._amqp_url:
                connection = Connection(
                    self._amqp_url,
                    heartbeat=self._settings.amqp_heartbeat_s,
                    connect_timeout=5,
                    transport_options={"confirm_publish": True},
                )
            connection.connect()
            self._connection = connection
            self._producer = Producer(connection.channel(), on_return=self._on_return)
        return self._producer

    def _on_return(
        self, exception: Exception, exchange: str, routing_key: str, message: Any
    ) -> None:
        message_id = (
            message.properties.get("message_id") if hasattr(message, "properties") else None
        )
        self._returned.add(message_id or "")

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        message_id: str,
        headers: dict[str, Any] | None = None,
        content_type: str = CONTENT_TYPE,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        """`properties`: more AMQP properties (`outbox.PUBLISH_PROPERTIES`, e.g. correlation_id)."""
        self._returned.discard(message_id)
        try:
            producer = self._ensure()
            producer.publish(
                body,
                exchange=exchange,
                routing_key=routing_key,
                mandatory=True,
                delivery_mode=2,
                content_type=content_type,
                content_encoding="utf-8",
                message_id=message_id,
                headers=headers or {},
                retry=False,
                timeout=self._settings.amqp_confirm_timeout_s,
                **(properties or {}),
            )
        except MessageNacked:
            self._returned.discard(message_id)
            REFUSED.labels(exchange=exchange).inc()
            raise Refused(
                f"the broker refused message {message_id} on {exchange!r} with routing key "
                f"{routing_key!r} (nack: a queue is full)"
            ) from None
        except Exception as error:  # timeouts, connection and channel errors from kombu/py-amqp
            self._drop()
            raise PublishFailed(
                f"publish of {message_id} failed: {type(error).__name__}: {error}"
            ) from None
        if message_id in self._returned:
            self._returned.discard(message_id)
            UNROUTABLE.labels(exchange=exchange).inc()
            raise Unroutable(
                f"no queue is bound for {exchange!r} with routing key {routing_key!r} (NO_ROUTE)"
            )
        PUBLISHED.labels(exchange=exchange).inc()

    def close(self) -> None:
        """Close the connection; the broker's answer is awaited `CLOSE_TIMEOUT_S` at most."""
        connection = self._connection
        if connection is None:
            return
        try:
            if connection.connected:
                connection.connection.sock.settimeout(CLOSE_TIMEOUT_S)
                connection.release()  # on a timeout py-amqp drops the socket itself
                self._producer = self._connection = None
                return
        except Exception:  # already broken
            log.debug("closing the connection failed; dropping it", exc_info=True)
        self._drop()

    def _drop(self) -> None:
        """Forget the connection without the close handshake (a broker that blocks publishers,
        or a broken connection, would never answer it): the socket is closed, the broker
        cleans up on its side."""
        connection = self._connection
        self._producer = self._connection = None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.collect()
