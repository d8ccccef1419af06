"""One API over HTTP, as the signed-in person: their access token, the console's request and
correlation ids, and the person's own address for intake's sign-in limits.

A connection that fails or times out, and a 5xx, are `ApiError("unavailable")`: the page shows
the 503 page (the APIs change nothing on a 503, and a request that timed out is not retried).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import requests

from services.console.api_clients.errors import ApiError
from shared import context

Value = str | int | list[str] | None
Params = Mapping[str, Value]


@dataclass
class CallTally:
    """The API calls one page made and the time they took (the page's Server-Timing header)."""

    calls: int = 0
    seconds: float = 0.0


tally: ContextVar[CallTally | None] = ContextVar("console_api_calls", default=None)


class ServiceApi:
    def __init__(
        self,
        name: str,
        base_url: str,
        session: requests.Session,
        *,
        token: str | None = None,
        forwarded_for: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.name, self.base_url, self.session = name, base_url.rstrip("/"), session
        self.token, self.forwarded_for, self.timeout_s = token, forwarded_for, timeout_s

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.forwarded_for:
            headers["X-Forwarded-For"] = self.forwarded_for
        if rid := context.request_id.get():
            headers["X-Request-ID"] = rid
        if cid := context.correlation_id.get():
            headers["X-Correlation-ID"] = cid
        return headers

    def call(
        self, method: str, path: str, *, body: Any = None, params: Params | None = None
    ) -> Any:
        """The answer's JSON (None when it has no body); `ApiError` for any error."""
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        started = time.perf_counter()
        try:
            answer = self.session.request(
                method,
                f"{self.base_url}{path}",
                json=body,
                params=query,
                headers=self.headers(),
                timeout=self.timeout_s,
            )
        except requests.RequestException as error:
            raise ApiError(
                "unavailable", f"{self.name} does not answer ({type(error).__name__})"
            ) from None
        finally:
            if (counted := tally.get()) is not None:
                counted.calls += 1
                counted.seconds += time.perf_counter() - started
        if answer.status_code >= 400:
            raise ApiError.from_answer(
                answer.status_code, _json(answer), answer.headers.get("Retry-After")
            )
        return _json(answer) if answer.content else None

    def get(self, path: str, **params: Value) -> Any:
        return self.call("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, body=body if body is not None else {})

    def answers(self) -> bool:
        """Whether the API is alive (its /healthz), for the console's readiness."""
        try:
            return self.session.get(f"{self.base_url}/healthz", timeout=3).status_code == 200
        except requests.RequestException:
            return False


def _json(answer: requests.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None
