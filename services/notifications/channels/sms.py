"""SMS through an HTTP provider: ``POST {base_url}/v1/messages`` with ``{"to", "body"}``.

Every request carries an ``Idempotency-Key`` (the delivery key): a retry after a timeout, when
the provider may already have sent the text, returns the first message instead of a second.
"""

from __future__ import annotations

import re

import requests

from .errors import PermanentFailure, TemporaryFailure, http_failure

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class HttpSmsProvider:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/v1/messages"
        self.api_key, self.timeout = api_key, timeout
        self.session = session or requests.Session()

    def send(self, to_e164: str, text: str, idempotency_key: str) -> str:
        """Send one text; return the provider's message id.

        Raises `TemporaryFailure` (unreachable, timeout, 429/5xx, with ``retry_after`` when the
        provider gave one) or `PermanentFailure` (malformed number, other 4xx).
        """
        if not E164.match(to_e164):
            raise PermanentFailure("phone number is not in E.164 form")
        try:
            response = self.session.post(
                self.url,
                json={"to": to_e164, "body": text},
                headers={
                    "Authorization": f"Bearer {self.api_key}",
                    "Idempotency-Key": idempotency_key,
                },
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:  # refused, timeout, reset
            raise TemporaryFailure(f"SMS provider unreachable: {type(error).__name__}") from None
        if failure := http_failure(
            response.status_code, response.headers, response.text, "SMS provider"
        ):
            raise failure
        try:
            message_id = response.json()["id"]
        except (ValueError, KeyError, TypeError):
            # Accepted, maybe; retrying with the same Idempotency-Key cannot send it twice.
            raise TemporaryFailure("SMS provider answered without a message id") from None
        return str(message_id)
