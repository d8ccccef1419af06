"""Metrics of the notifications worker (served on WORKER_METRICS_PORT)."""

from prometheus_client import Counter

PLANNED = Counter(
    "notifications_planned_total",
    "Deliveries planned from events, by channel and initial status",
    ["channel", "status"],
)
FINISHED = Counter(
    "notifications_deliveries_total",
    "Deliveries that reached a final status (sent, failed, suppressed), by channel",
    ["channel", "status"],
)
FAILED_FOR_GOOD = Counter(
    "notifications_failed_total",
    "Deliveries given up on (permanent failure or retries exhausted); staff are told",
    ["channel"],
)
RETRIES = Counter(
    "notifications_retries_total", "Temporary failures scheduled for another try", ["channel"]
)
LEASES_LOST = Counter(
    "notifications_leases_lost_total",
    "Outcomes not recorded because the claim had expired and another worker took over",
)
SENDER_ERRORS = Counter(
    "notifications_sender_errors_total", "Unexpected errors in the sender loop (store, bugs)"
)
