"""RabbitMQ topology, declared from one place.

- one durable topic exchange per publishing service: `<service>.events`, routing key = event type;
- one durable quorum queue per consuming service and purpose: `<service>.<purpose>`, with an
  explicit `x-delivery-limit` and dead-lettering to the `dlx` exchange, which routes to
  `<queue>.dlq`;
- delayed retry: `<queue>.retry.<ms>` queues (one per backoff step) whose messages expire after
  `<ms>` and are dead-lettered back to `<queue>`.

- the types no service consumes (`catalog.UNHEARD`): bound by their publisher to
  `<exchange>.unheard`, a quorum queue nobody reads, bounded (100,000 messages, 7 days, the
  oldest dropped first), so that no such event is unroutable and no consumer spends a hop only
  acknowledging it. Every other type stays unroutable until its consumer's queue is bound: the
  relay keeps it pending (an alternate exchange would instead divert, for good, the events a
  consumer not yet started should get).

Everything a consumer sends on (a retry, a dead letter, a message moved back from the DLQ) goes
through `dlx` (direct) with one routing key per target, so no user needs the default exchange:
`<queue>` -> `<queue>.dlq`, `<queue>.retry.<ms>` -> that retry queue, `<queue>.requeue` -> `<queue>`.

Pieces an earlier version declared and this one does not (a queue, a binding) are named in
`RETIRED_QUEUES` and `QueueSpec.stale_bindings` and removed by `declare`, so that an upgraded
broker routes as a fresh one does.

`declare` runs when a worker starts and fails with `TopologyError` naming the piece that is
missing, forbidden or declared elsewhere with other arguments (see docs/ops.md before changing
arguments: RabbitMQ refuses a re-declaration that differs).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from amqp.exceptions import AccessRefused, NotFound, PreconditionFailed
from kombu import Connection

DEAD_LETTER_EXCHANGE = "dlx"
PARTNER_REFERRALS_EXCHANGE = "partner.referrals"
PARTNER_STATUS_EXCHANGE = "partner.status"
DEFAULT_RETRY_DELAYS_MS = (1000, 5000, 30000)
UNHEARD_MAX_MESSAGES = 100_000
UNHEARD_TTL_MS = 7 * 24 * 3600 * 1000
RETIRED_QUEUES: dict[str, tuple[str, ...]] = {
    # consumed its own notification.* events only to keep them routable (until 2026-12)
    "notifications": ("notifications.outcomes",),
}
"""Service -> queues it declared once and no longer uses: deleted with their retry queues and
(when empty) their dead-letter queue."""


class TopologyError(RuntimeError):
    """A missing or conflicting piece of broker topology; the message names it."""


def events_exchange(service: str) -> str:
    return f"{service}.events"


def dlq_name(queue: str) -> str:
    return f"{queue}.dlq"


def retry_queue_name(queue: str, delay_ms: int) -> str:
    return f"{queue}.retry.{delay_ms}ms"


def unheard_queue(exchange: str) -> str:
    """Where the publisher's events that no service consumes go (see above)."""
    return f"{exchange}.unheard"


def is_unheard_queue(name: str) -> bool:
    """Whether `name` is a publisher's sink of unheard events (it never drains: nobody reads it)."""
    return name.endswith(".events.unheard")


def requeue_key(queue: str) -> str:
    """The `dlx` routing key that leads back into `queue`."""
    return f"{queue}.requeue"


@dataclass(frozen=True)
class QueueSpec:
    """A consuming service's queue: `<service>.<purpose>`, bound to (exchange, routing pattern)s."""

    service: str
    purpose: str
    bindings: tuple[tuple[str, str], ...]
    delivery_limit: int = 5
    retry_delays_ms: tuple[int, ...] = DEFAULT_RETRY_DELAYS_MS
    owned_exchanges: tuple[str, ...] = field(default=())
    stale_bindings: tuple[tuple[str, str], ...] = field(default=())
    """(exchange, routing key)s an earlier version bound and this one does not: unbound."""

    @property
    def name(self) -> str:
        return f"{self.service}.{self.purpose}"

    def arguments(self) -> dict[str, object]:
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": self.name,
        }


def _quorum(args: dict[str, object] | None = None) -> dict[str, object]:
    return {"x-queue-type": "quorum", **(args or {})}


class _Declarer:
    """Declares on a fresh channel per step, since a refused declaration closes the channel."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _run(self, what: str, fn) -> None:
        channel = self.connection.channel()
        try:
            fn(channel)
        except PreconditionFailed as error:
            raise TopologyError(
                f"{what} already exists with different settings ({error.reply_text}); "
                "see docs/ops.md, 'Changing topology'"
            ) from None
        except AccessRefused as error:
            raise TopologyError(f"{what}: access refused ({error.reply_text})") from None
        except NotFound as error:
            raise TopologyError(f"{what}: not found ({error.reply_text})") from None
        finally:
            with contextlib.suppress(Exception):  # the broker may have closed it already
                channel.close()

    def exchange(self, name: str, kind: str = "topic", *, own: bool) -> None:
        """Declare an exchange we own; check one we do not (passive), creating it only if we may."""
        if own:
            self._run(
                f"exchange {name!r}",
                lambda ch: ch.exchange_declare(name, kind, durable=True, auto_delete=False),
            )
            return
        try:
            self._run(
                f"exchange {name!r}", lambda ch: ch.exchange_declare(name, kind, passive=True)
            )
        except TopologyError as missing:
            try:
                self._run(
                    f"exchange {name!r}",
                    lambda ch: ch.exchange_declare(name, kind, durable=True, auto_delete=False),
                )
            except TopologyError:
                raise TopologyError(
                    f"{missing}; it is declared by the service that publishes to it, or by the broker definitions"
                ) from None

    def queue(self, name: str, arguments: dict[str, object]) -> None:
        self._run(
            f"queue {name!r}",
            lambda ch: ch.queue_declare(name, durable=True, auto_delete=False, arguments=arguments),
        )

    def bind(self, queue: str, exchange: str, routing_key: str) -> None:
        self._run(
            f"binding {exchange!r} -> {queue!r} ({routing_key})",
            lambda ch: ch.queue_bind(queue, exchange, routing_key),
        )

    def unbind(self, queue: str, exchange: str, routing_key: str) -> None:
        """Idempotent: RabbitMQ answers unbind-ok for a binding that is not there."""
        self._run(
            f"unbinding {exchange!r} -> {queue!r} ({routing_key})",
            lambda ch: ch.queue_unbind(queue, exchange, routing_key),
        )

    def delete_queue(self, name: str) -> None:
        """Idempotent: RabbitMQ answers delete-ok for a queue that is not there."""
        self._run(f"queue {name!r}", lambda ch: ch.queue_delete(name))

    def holds_messages(self, name: str) -> bool:
        """Whether the queue exists and holds messages (quorum queues refuse `if-empty`)."""
        counts: list[int] = []
        try:
            self._run(
                f"queue {name!r}",
                lambda ch: counts.append(ch.queue_declare(name, passive=True).message_count),
            )
        except TopologyError:  # not found
            return False
        return bool(counts and counts[0])


def unheard_arguments() -> dict[str, object]:
    return _quorum(
        {
            "x-max-length": UNHEARD_MAX_MESSAGES,
            "x-overflow": "drop-head",
            "x-message-ttl": UNHEARD_TTL_MS,
        }
    )


def declare(
    connection: Connection,
    *,
    publishes_to: Iterable[str] = (),
    queues: Sequence[QueueSpec] = (),
    unheard: Mapping[str, Sequence[str]] | None = None,
    retired_queues: Sequence[str] = (),
) -> None:
    """Declare the exchanges a worker publishes to and the queues it consumes, with their DLQs and
    retries; `unheard`: exchange -> the routing keys of its types no service consumes (their sink);
    `retired_queues`: queues of an earlier version, deleted."""
    declarer = _Declarer(connection)
    declarer.exchange(DEAD_LETTER_EXCHANGE, "direct", own=True)
    for exchange in publishes_to:
        declarer.exchange(exchange, own=True)
    for exchange, routing_keys in (unheard or {}).items():
        sink = unheard_queue(exchange)
        declarer.queue(sink, unheard_arguments())
        for key in routing_keys:
            declarer.bind(sink, exchange, key)
    for retired in retired_queues:
        declarer.delete_queue(retired)
        for delay in DEFAULT_RETRY_DELAYS_MS:
            declarer.delete_queue(retry_queue_name(retired, delay))
        if not declarer.holds_messages(dlq_name(retired)):  # its dead letters are kept
            declarer.delete_queue(dlq_name(retired))
    for spec in queues:
        declarer.queue(dlq_name(spec.name), _quorum())
        declarer.bind(dlq_name(spec.name), DEAD_LETTER_EXCHANGE, spec.name)
        declarer.queue(spec.name, spec.arguments())
        declarer.bind(spec.name, DEAD_LETTER_EXCHANGE, requeue_key(spec.name))
        for delay in spec.retry_delays_ms:
            retry = retry_queue_name(spec.name, delay)
            declarer.queue(
                retry,
                _quorum(
                    {
                        "x-message-ttl": delay,
                        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                        "x-dead-letter-routing-key": requeue_key(spec.name),
                    }
                ),
            )
            declarer.bind(retry, DEAD_LETTER_EXCHANGE, retry)
        for exchange, pattern in spec.bindings:
            declarer.exchange(exchange, own=exchange in spec.owned_exchanges)
            declarer.bind(spec.name, exchange, pattern)
        for exchange, pattern in spec.stale_bindings:
            declarer.unbind(spec.name, exchange, pattern)
