"""Signed webhooks to partners (e.g. the referral status back to the referring system).

Each POST carries ``X-Clinic-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is
HMAC-SHA256 with the partner's secret over the bytes ``f"{t}."`` followed by the raw body.
A partner checks it with `verify_signature` (or the same few lines in its own language):
recompute the HMAC over the body as received, compare in constant time, and refuse a ``t``
more than five minutes away from its clock (replays). Several ``v1=`` entries may appear
while a secret is being rotated; one match is enough. ``X-Clinic-Event-Id`` is the same
for every retry of one event, so partners can drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import requests

from .errors import TemporaryFailure, http_failure

SIGNATURE_HEADER = "X-Clinic-Signature"
EVENT_ID_HEADER = "X-Clinic-Event-Id"


def sign(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """The ``X-Clinic-Signature`` value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: str | bytes,
    header: str | None,
    body: bytes,
    tolerance_s: float = 300,
    now: float | None = None,
) -> bool:
    """True if `header` signs `body` with `secret` and is at most `tolerance_s` old (or new)."""
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


class WebhookSender:
    def __init__(self, timeout: float = 10.0, session: requests.Session | None = None) -> None:
        self.timeout = timeout
        self.session = session or requests.Session()

    def send(
        self,
        url: str,
        secret: str | bytes,
        body_bytes: bytes,
        event_id: str,
        now: float | None = None,
    ) -> str:
        """POST the signed body; return e.g. "HTTP 200". Failures are classified like SMS."""
        timestamp = int(time.time() if now is None else now)
        try:
            response = self.session.post(
                url,
                data=body_bytes,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign(secret, body_bytes, timestamp),
                    EVENT_ID_HEADER: event_id,
                },
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise TemporaryFailure(f"webhook unreachable: {type(error).__name__}") from None
        if failure := http_failure(
            response.status_code, response.headers, response.text, "webhook"
        ):
            raise failure
        return f"HTTP {response.status_code}"


def _digest(secret: str | bytes, timestamp: int, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
