"""A partner's webhook endpoint, for tests: checks our signature as a partner would.

    with FakePartnerEndpoint(secret="whsec-...") as partner:
        ...  # configure partner.url, then deliver
        assert partner.calls[0].valid

`script(503, 204)` answers the next valid calls with those statuses (then 204). A call with a
bad signature is answered 401 and recorded with ``valid=False``.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from services.notifications.channels.webhook import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    verify_signature,
)
from testkit.fakes.http_server import LocalHttpServer


@dataclass(frozen=True)
class WebhookCall:
    body: bytes
    valid: bool
    event_id: str | None

    def json(self) -> Any:
        return json.loads(self.body)


class FakePartnerEndpoint(LocalHttpServer):
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.calls: list[WebhookCall] = []
        self._script: deque[int] = deque()
        super().__init__(_handler_for(self))

    @property
    def url(self) -> str:
        return f"{self.base_url}/hooks/clinic"

    def script(self, *statuses: int) -> None:
        self._script.extend(statuses)

    def answer(self, body: bytes, signature: str | None, event_id: str | None) -> int:
        valid = verify_signature(self.secret, signature, body)
        self.calls.append(WebhookCall(body, valid, event_id))
        if not valid:
            return 401
        return self._script.popleft() if self._script else 204


def _handler_for(endpoint: FakePartnerEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = endpoint.answer(
                body, self.headers.get(SIGNATURE_HEADER), self.headers.get(EVENT_ID_HEADER)
            )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
