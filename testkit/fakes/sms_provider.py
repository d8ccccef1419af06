"""A local SMS provider that speaks the same HTTP as the real one, for tests.

``POST /v1/messages`` with ``Authorization: Bearer <key>`` and JSON ``{"to", "body"}``:
401 on a wrong key, 400 on bad JSON, 201 ``{"id", "status"}`` on success. The same
``Idempotency-Key`` returns the same id without sending again (422 if reused for a different
message). `script` queues answers for the next valid requests, e.g. ``script(500, 200)`` or
``script(Reply(429, {"Retry-After": "1"}))``; a plain 2xx in the script means "send normally".

    with FakeSmsProvider(api_key="k") as sms:
        HttpSmsProvider(sms.base_url, "k").send("+15551234567", "hi", "key-1")
        assert sms.sent[0].body == "hi"

A patient's reply is forwarded to our ``POST /sms/inbound`` the way the provider does it:
`inbound_reply(secret, "+15551234567", "STOP")` gives the signed body and headers.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from services.notifications.channels.webhook import sign
from testkit.fakes.http_server import LocalHttpServer

INBOUND_SIGNATURE_HEADER = "X-Sms-Signature"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class SentMessage:
    id: str
    to: str
    body: str
    idempotency_key: str | None


class FakeSmsProvider(LocalHttpServer):
    def __init__(self, api_key: str = "test-sms-key") -> None:
        self.api_key = api_key
        self.sent: list[SentMessage] = []
        self.requests = 0  # every POST that reached the server, answered or not
        self._by_key: dict[str, SentMessage] = {}
        self._script: deque[Reply] = deque()
        self._changed = threading.Condition()
        super().__init__(_handler_for(self))

    def script(self, *replies: int | Reply) -> None:
        """Answer the next valid requests with these statuses, in order, then normally."""
        with self._changed:
            self._script.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> None:
        """Block until at least `count` requests arrived (no sleeping: a condition variable)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.requests < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} SMS requests, got {self.requests}")
                self._changed.wait(remaining)

    def handle(self, authorization: str | None, key: str | None, raw: bytes) -> Reply:
        with self._changed:
            self.requests += 1
            self._changed.notify_all()
            if authorization != f"Bearer {self.api_key}":
                return Reply(401, body={"error": "invalid API key"})
            try:
                payload = json.loads(raw)
                to, body = payload["to"], payload["body"]
                if not (isinstance(to, str) and isinstance(body, str) and to.startswith("+")):
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                return Reply(400, body={"error": "expected JSON {to: E.164 string, body: string}"})
            if key is not None and (earlier := self._by_key.get(key)) is not None:
                if (earlier.to, earlier.body) != (to, body):
                    return Reply(422, body={"error": "Idempotency-Key reused for another message"})
                return Reply(200, body={"id": earlier.id, "status": "queued"})
            scripted = self._script.popleft() if self._script else Reply(201)
            if not 200 <= scripted.status < 300:
                return scripted
            message = SentMessage(f"msg_{uuid.uuid4().hex[:16]}", to, body, key)
            self.sent.append(message)
            if key is not None:
                self._by_key[key] = message
            return Reply(scripted.status, scripted.headers, {"id": message.id, "status": "queued"})


def inbound_reply(
    secret: str, from_number: str, text: str, now: float | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a forwarded reply, signed with the inbound secret."""
    body = json.dumps({"id": f"in_{uuid.uuid4().hex[:12]}", "from": from_number, "body": text})
    raw = body.encode()
    signature = sign(secret, raw, int(time.time() if now is None else now))
    return raw, {"Content-Type": "application/json", INBOUND_SIGNATURE_HEADER: signature}


def _handler_for(provider: FakeSmsProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/v1/messages":
                reply = Reply(404, body={"error": "not found"})
            else:
                auth, key = self.headers.get("Authorization"), self.headers.get("Idempotency-Key")
                reply = provider.handle(auth, key, raw)
            body = json.dumps(reply.body or {}).encode()
            self.send_response(reply.status)
            for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
