"""Errors that mean "the store or the broker is not answering for now", not "this input is bad".

MongoDB: pymongo's `ConnectionFailure` family (`AutoReconnect`, `NetworkTimeout`,
`NotPrimaryError`, `ServerSelectionTimeoutError`, `WaitQueueTimeoutError`) and `WTimeoutError`
(a majority did not confirm a write in time: the replica set is degraded; the write may or may
not have been applied, which idempotent writes make harmless to repeat). RabbitMQ: kombu's
`OperationalError` and py-amqp's connection errors.

An outage is nobody's fault and passes: an HTTP API answers 503 for it, a consumer retries the
message until the dependency answers instead of spending the message's retries on it.
"""

from __future__ import annotations

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError as KombuOperationalError
from pymongo.errors import ConnectionFailure, WTimeoutError

STORE_OUTAGE_ERRORS: tuple[type[Exception], ...] = (ConnectionFailure, WTimeoutError)
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    *STORE_OUTAGE_ERRORS,
    KombuOperationalError,
    AmqpConnectionError,
)


OUTAGE_PAUSE_MAX_S = 3.0


def pause_s(failures: int) -> float:
    """How long a looping component (a consumer, the relay, a tracker) waits before it tries
    again, after `failures` outages in a row: 0.5, 1, 2, then 3 s at most."""
    return min(0.25 * 2**failures, OUTAGE_PAUSE_MAX_S)


def is_outage(error: BaseException) -> bool:
    """Whether `error` says a dependency is away (retry later), rather than that the work is bad."""
    return isinstance(error, OUTAGE_ERRORS)
