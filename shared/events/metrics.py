"""Metrics of the event machinery (see docs/ops.md for what each means)."""

from prometheus_client import Counter, Gauge, Histogram

PUBLISHED = Counter("events_published_total", "Events confirmed by the broker", ["exchange"])
UNROUTABLE = Counter(
    "events_unroutable_total",
    "Events the broker could not route (NO_ROUTE); kept pending",
    ["exchange"],
)
REFUSED = Counter(
    "events_refused_total",
    "Events the broker nacked (a full queue, overflow reject-publish); kept pending",
    ["exchange"],
)
PUBLISH_FAILED = Counter(
    "events_publish_failed_total",
    "Publishes not confirmed (confirm timeout, connection failure)",
    ["exchange"],
)
CONSUMED = Counter("events_consumed_total", "Messages taken from a queue", ["queue"])
REDELIVERED = Counter(
    "events_redelivered_total",
    "Messages the broker delivered again (flag `redelivered`: an earlier delivery was not acked)",
    ["queue"],
)
HANDLED = Counter(
    "events_handled_total", "Events whose handler finished and were acked", ["queue", "type"]
)
DUPLICATES = Counter(
    "events_duplicates_skipped_total", "Events recognised as already applied", ["queue", "type"]
)
RETRIED = Counter(
    "events_retried_total",
    "Events sent to a delayed retry after a handler error",
    ["queue", "type"],
)
DEAD_LETTERED = Counter(
    "events_dead_lettered_total", "Messages sent to the dead-letter queue", ["queue", "reason"]
)
HANDLER_SECONDS = Histogram("events_handler_seconds", "Handler latency", ["queue", "type"])
OUTBOX_BACKLOG = Gauge(
    "outbox_backlog_documents", "Documents with pending outbox events", ["collection"]
)
