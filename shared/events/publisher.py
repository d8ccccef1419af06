"""Publishing with confirms: `mandatory`, persistent, with a confirm timeout; never retried without bound.

`publish` returns once the broker confirmed the message, or raises:
- `Unroutable` when no queue was bound for it (NO_ROUTE, seen through `mandatory`);
- `Refused` when the broker nacked it: a queue it routes to is full (`reject-publish`, see
  `shared.events.policies`). The connection stays open; try again later;
- `PublishFailed` when the broker did not confirm within the timeout, or the connection failed.
  The publisher then drops its connection without the close handshake (a broken or stalled
  broker may never answer it) and opens a new one on the next call.

A stalled broker (a memory or disk alarm) blocks a connection when it publishes and says so
(`connection.blocked`). The publisher then keeps that connection: while it stays blocked, every
`publish` raises `PublishFailed` at once WITHOUT sending anything (no pile of copies and no new
connection per attempt on a broker short of memory); once the broker unblocks it, publishing
resumes on a fresh channel (the stalled message's late confirm must not be taken for another's).
The one message sent when the alarm began is delivered by the broker after the alarm although
its publisher gave up on it: the outbox publishes it again, and consumers skip the duplicate.

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
        self._blocked = False  # the broker said it blocks this connection (a resource alarm)
        self._unconfirmed = False  # the channel's last publish was never confirmed

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
            connection.transport_options = {
                **(connection.transport_options or {}),
                "on_blocked": self._on_blocked,
                "on_unblocked": self._on_unblocked,
            }
            connection.connect()
            self._connection = connection
            self._blocked = self._unconfirmed = False
            self._producer = Producer(connection.channel(), on_return=self._on_return)
        if self._blocked:
            self._read_notifications()
            if self._blocked:
                raise PublishFailed("the broker blocks publishers (a resource alarm); nothing sent")
        if self._unconfirmed and self._connection is not None:  # a fresh channel after a stall
            self._producer = Producer(self._connection.channel(), on_return=self._on_return)
            self._unconfirmed = False
        return self._producer

    def _on_blocked(self, reason: str) -> None:
        log.warning("the broker blocks publishing", extra={"reason": reason})
        self._blocked = True

    def _on_unblocked(self) -> None:
        log.info("the broker unblocked publishing")
        self._blocked = False

    def _read_notifications(self) -> None:
        """Take in what the broker sent meanwhile (`connection.unblocked`), waiting briefly."""
        assert self._connection is not None
        with contextlib.suppress(TimeoutError):
            for _ in range(10):
                self._connection.drain_events(timeout=0.05)

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
        except PublishFailed:
            raise
        except TimeoutError as error:  # socket.timeout too
            if not self._blocked:
                self._drop()
                raise PublishFailed(f"publish of {message_id} not confirmed in time") from None
            self._unconfirmed = True  # keep the blocked connection; send nothing until unblocked
            raise PublishFailed(
                f"publish of {message_id} not confirmed in time: the broker blocks publishers "
                f"(a resource alarm; {type(error).__name__})"
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
