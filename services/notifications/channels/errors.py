"""How a channel says a delivery failed: worth retrying later, or never going to work."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

BODY_EXCERPT_CHARS = 300


class DeliveryFailure(Exception):
    """A delivery did not happen. `reason` is short, safe to log, and has no message content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TemporaryFailure(DeliveryFailure):
    """Try again later (connection refused, timeout, 429, 5xx, SMTP 4xx).

    `retry_after` is the provider's own hint in seconds, if it gave one.
    """

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentFailure(DeliveryFailure):
    """Retrying the same message cannot succeed (recipient refused, request rejected)."""

    def __init__(self, reason: str, status: int | None = None, body: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.body = body[:BODY_EXCERPT_CHARS] if body else body


CREDENTIAL_STATUSES = frozenset({401, 403})
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})


def http_failure(
    status: int, headers: Mapping[str, str], body: str, what: str
) -> DeliveryFailure | None:
    """None for 2xx; otherwise the failure an HTTP answer stands for.

    429, 5xx and 408/409/425 are temporary (with ``Retry-After`` when given). 401/403 are
    temporary too: a rotated or mistyped key is our configuration, and failing every message
    for good until someone notices would lose them. Redirects are not followed (permanent).
    Any other 4xx is permanent.
    """
    if 200 <= status < 300:
        return None
    if status in CREDENTIAL_STATUSES:
        return TemporaryFailure(f"{what} refused our credentials (HTTP {status})")
    if status in RETRYABLE_STATUSES or status >= 500:
        retry_after = parse_retry_after(headers.get("Retry-After"))
        return TemporaryFailure(f"{what} answered HTTP {status}", retry_after=retry_after)
    if 300 <= status < 400:
        return PermanentFailure(
            f"{what} redirected (HTTP {status}); redirects are not followed", status
        )
    return PermanentFailure(f"{what} refused the request (HTTP {status})", status=status, body=body)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date; None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
