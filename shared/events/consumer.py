"""Consuming events: ack only after the effect is durable; never lose, never ack away bad input.

For each message: decode and validate (an invalid one goes to `<queue>.dlq` with the reason in
its headers), call the handler for its type, then ack. A handler exception is retried through
the delayed retry queues (backoff), then dead-lettered with the error. A store or broker outage
(`shared.outages`) is not the message's fault: it does not use up the retries, and the message
comes back at the backoff steps, then every longest step, until the dependency answers.
`Reject` dead-letters at once (a permanent problem with the event). Every copy the consumer
sends on carries the message's origin (who published it, and where: see `origin`), so a retried
or moved-back message is judged exactly as the original was. A crash before the ack leaves the
message to be redelivered; the handler's guarded write (see `idempotency`) makes the repeat a
no-op, and the queue's `x-delivery-limit` dead-letters a message that keeps killing its consumer.

Connection problems (including a failed ack) drop the connection and open a fresh one with a
growing pause; SIGTERM lets the current handler finish and ack before the loop ends.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from kombu import Connection, Consumer, Queue
from kombu.message import Message

from shared import broker, context, outages, pause_points
from shared.config import Settings
from shared.events import topology
from shared.events.envelope import Event, InvalidEvent, parse_event
from shared.events.idempotency import Duplicate
from shared.events.metrics import (
    CONSUMED,
    DEAD_LETTERED,
    DUPLICATES,
    HANDLED,
    HANDLER_SECONDS,
    REDELIVERED,
    RETRIED,
)
from shared.events.origin import origin_of
from shared.events.publisher import ConfirmedPublisher, PublishFailed

log = logging.getLogger("events.consumer")

Handler = Callable[[Event], bool | None]
"""Applies an event; returns False when it recognised a duplicate (None or True: applied)."""

REASON_HEADER = "x-dead-letter-reason"
RETRY_HEADER = "x-retry-count"
OUTAGE_RETRY_HEADER = "x-outage-retry-count"
# How long one wait for a delivery lasts before the stop flag is looked at again: a stopping
# worker (SIGTERM, a test's teardown) ends within it.
DRAIN_TIMEOUT_S = 0.2


class Reject(Exception):
    """A permanent problem with the event: dead-letter it now with this reason, do not retry."""


def decode_event(message: Message) -> Event:
    """The default decoder: a CloudEvent in the body; who published it, and with which routing
    key, kept in `extra` (`user_id`: the broker-validated user of the first publish)."""
    origin = origin_of(message)
    origin.check()
    event = parse_event(message.body)
    return replace(event, extra={"user_id": origin.user_id, "routing_key": origin.routing_key})


@dataclass
class Subscription:
    """`wakes_relay`: whether its handlers may save events (then the outbox relay is woken
    after each applied event, instead of waiting for its next poll)."""

    spec: topology.QueueSpec
    handlers: Mapping[str, Handler]
    decode: Callable[[Message], Event] = decode_event
    on_dead_letter: Callable[[Message, str], None] | None = field(default=None)
    wakes_relay: bool = True


def subscribe(
    settings: Settings,
    purpose: str,
    bindings: Sequence[tuple[str, str]],
    handlers: Mapping[str, Handler],
    owned_exchanges: Sequence[str] = (),
    stale_bindings: Sequence[tuple[str, str]] = (),
    **options: Any,
) -> Subscription:
    """'On these events, call these functions': a queue `<service>.<purpose>` with its bindings.

    `owned_exchanges`: exchanges bound from that this service declares (rather than checks);
    `stale_bindings`: bindings an earlier version of the queue had, removed when it is declared.
    """
    spec = topology.QueueSpec(
        service=settings.service,
        purpose=purpose,
        bindings=tuple(bindings),
        owned_exchanges=tuple(owned_exchanges),
        stale_bindings=tuple(stale_bindings),
        delivery_limit=settings.amqp_delivery_limit,
        retry_delays_ms=settings.retry_delays_ms,
    )
    return Subscription(spec=spec, handlers=handlers, **options)


class EventConsumer:
    def __init__(
        self,
        settings: Settings,
        subscriptions: Sequence[Subscription],
        on_handled: Callable[[], None] = lambda: None,
        prefetch: int = 1,
    ) -> None:
        """`prefetch` 1: a worker killed or cut off returns only the message it was handling,
        so only that one is charged a delivery against the queue's delivery limit (with 10, a
        backlogged worker restarted five times dead-lettered ten messages no handler had run)."""
        self.settings = settings
        self.subscriptions = list(subscriptions)
        self.on_handled = on_handled
        self.prefetch = prefetch
        self.name = "consumer:" + ",".join(s.spec.name for s in self.subscriptions)
        self._stop = threading.Event()
        self._publisher: ConfirmedPublisher | None = None

    def run(self, stop: threading.Event) -> None:
        self._stop = stop
        failures = 0
        while not stop.is_set():
            connection = broker.connection(self.settings)
            try:
                connection.connect()
                topology.declare(connection, queues=[s.spec for s in self.subscriptions])
                failures = 0
                self._consume(connection, stop)
            except topology.TopologyError:
                raise
            except (
                *connection.connection_errors,
                *connection.channel_errors,
                OSError,
                PublishFailed,  # a retry or dead letter not confirmed: the message stays unacked
            ) as error:
                if isinstance(error, PublishFailed):
                    self._drop_publisher()
                failures += 1
                pause = outages.pause_s(failures)
                log.warning(
                    "broker connection lost; reconnecting",
                    extra={"error": f"{type(error).__name__}: {error}", "pause_s": pause},
                )
                stop.wait(pause)
            finally:
                _release(connection)
        self._drop_publisher()

    def _drop_publisher(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
            self._publisher = None

    def _consume(self, connection: Connection, stop: threading.Event) -> None:
        channel = connection.channel()
        channel.basic_qos(0, self.prefetch, False)
        consumers = [
            Consumer(
                channel,
                queues=[Queue(sub.spec.name, no_declare=True)],
                on_message=partial(self._on_message, sub),
                no_ack=False,
            )
            for sub in self.subscriptions
        ]
        for consumer in consumers:
            consumer.consume()
        log.info("consuming", extra={"queues": [s.spec.name for s in self.subscriptions]})
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                connection.drain_events(timeout=DRAIN_TIMEOUT_S)
            connection.heartbeat_check()
        for consumer in consumers:
            consumer.cancel()

    def _on_message(self, sub: Subscription, message: Message) -> None:
        if self._stop.is_set():
            return  # not acked: returned to the queue when the channel closes
        CONSUMED.labels(queue=sub.spec.name).inc()
        if _redelivered(message):
            REDELIVERED.labels(queue=sub.spec.name).inc()
        try:
            event = sub.decode(message)
        except InvalidEvent as error:
            self._dead_letter(sub, message, error.reason, kind="invalid")
            return
        handler = sub.handlers.get(event.type)
        if handler is None:
            self._dead_letter(
                sub, message, f"no handler for event type {event.type!r}", kind="unhandled"
            )
            return
        with context.bound(request=event.id, correlation=event.correlation_id or event.id):
            self._handle(sub, message, event, handler)

    def _handle(self, sub: Subscription, message: Message, event: Event, handler: Handler) -> None:
        labels = {"queue": sub.spec.name, "type": event.type}
        started = time.perf_counter()
        pause_points.reach("consumer.handling", event.type, event_id=event.id)
        try:
            applied = handler(event)
        except Duplicate:
            applied = False
        except Reject as error:
            self._dead_letter(sub, message, str(error), kind="rejected")
            return
        except Exception as error:
            outage = outages.is_outage(error)
            if outage:
                log.warning(
                    "handler met a store or broker outage; retrying",
                    extra={"event_id": event.id, "type": event.type, "error": repr(error)[:300]},
                )
            else:
                log.exception("handler failed", extra={"event_id": event.id, "type": event.type})
            self._retry_or_dead_letter(
                sub, message, f"{type(error).__name__}: {error}", outage=outage
            )
            return
        HANDLER_SECONDS.labels(**labels).observe(time.perf_counter() - started)
        (DUPLICATES if applied is False else HANDLED).labels(**labels).inc()
        if applied is False:
            log.info(
                "duplicate skipped",
                extra={
                    "event_id": event.id,
                    "type": event.type,
                    "redelivered": _redelivered(message),
                },
            )
        pause_points.reach(
            "consumer.before_ack", event.type, event_id=event.id, redelivered=_redelivered(message)
        )
        message.ack()
        if applied is not False and sub.wakes_relay:
            self.on_handled()

    def _retry_or_dead_letter(
        self, sub: Subscription, message: Message, error: str, *, outage: bool
    ) -> None:
        """Send the message to its next retry queue, or to the DLQ once its retries are used up.

        An outage counts on its own header and never dead-letters: it retries at the backoff
        steps, then at the longest one, so the message is handled within one longest step of
        the dependency's return. The retry queues are the existing ones (no new topology).
        """
        headers = dict(message.headers or {})
        counter = OUTAGE_RETRY_HEADER if outage else RETRY_HEADER
        attempt = int(headers.get(counter, 0) or 0)
        delays = sub.spec.retry_delays_ms
        if not outage and attempt >= len(delays):
            self._dead_letter(
                sub, message, f"handler failed after {attempt + 1} attempts: {error}", kind="failed"
            )
            return
        delay = delays[min(attempt, len(delays) - 1)]
        headers.update({counter: attempt + 1, "x-last-error": error[:500]})
        headers = origin_of(message).stamp(headers)
        self._send(message, topology.retry_queue_name(sub.spec.name, delay), headers)
        RETRIED.labels(queue=sub.spec.name, type=str(headers.get("ce-type", "")) or "event").inc()
        message.ack()

    def _dead_letter(self, sub: Subscription, message: Message, reason: str, *, kind: str) -> None:
        log.warning("dead-lettered", extra={"queue": sub.spec.name, "reason": reason, "kind": kind})
        headers = dict(message.headers or {})
        headers.update(
            {
                REASON_HEADER: reason[:1000],
                "x-dead-letter-kind": kind,
                "x-dead-lettered-at": datetime.now(UTC).isoformat(),
            }
        )
        headers = origin_of(message).stamp(headers)
        self._send(message, sub.spec.name, headers)  # dlx routes `<queue>` to `<queue>.dlq`
        DEAD_LETTERED.labels(queue=sub.spec.name, reason=kind).inc()
        if sub.on_dead_letter is not None:
            sub.on_dead_letter(message, reason)
        message.ack()

    def _send(self, message: Message, routing_key: str, headers: dict[str, Any]) -> None:
        """Publish a copy through `dlx` with confirms (on its own connection) before acking the original."""
        self._publisher = self._publisher or ConfirmedPublisher(self.settings)
        self._publisher.publish(
            topology.DEAD_LETTER_EXCHANGE,
            routing_key,
            message.body,
            message_id=message.properties.get("message_id") or "",
            headers=headers,
            content_type=message.content_type or "application/octet-stream",
        )


def _redelivered(message: Message) -> bool:
    """The broker's flag: this message was delivered before and not acked (a consumer died)."""
    return bool((message.delivery_info or {}).get("redelivered"))


def _release(connection: Connection) -> None:
    try:
        connection.release()
    except Exception:  # already broken; nothing more to do
        log.debug("release of a broken connection failed", exc_info=True)
