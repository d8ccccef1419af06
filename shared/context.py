"""Per-request / per-message context (request id, correlation id, actor) carried by contextvars."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_id() -> str:
    return uuid.uuid4().hex


def safe_id(candidate: str | None) -> str | None:
    """Return `candidate` if it is a safe identifier to echo and log, else None."""
    if candidate and _SAFE_ID.match(candidate):
        return candidate
    return None


@contextmanager
def bound(*, request: str | None = None, correlation: str | None = None) -> Iterator[None]:
    """Bind request and correlation ids for the duration of a block (a request or a message)."""
    tokens = [request_id.set(request), correlation_id.set(correlation or request)]
    try:
        yield
    finally:
        correlation_id.reset(tokens[1])
        request_id.reset(tokens[0])
