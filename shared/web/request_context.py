"""A request id and a correlation id on every request, response and log line; one log line per request."""

from __future__ import annotations

import logging
import time

from flask import Flask, g, request

from shared import context
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger("http")
REQUEST_ID_HEADER = "X-Request-ID"
CORRELATION_ID_HEADER = "X-Correlation-ID"


def init_request_context(app: Flask) -> None:
    @app.before_request
    def _bind_ids() -> None:
        rid = context.safe_id(request.headers.get(REQUEST_ID_HEADER)) or context.new_id()
        cid = context.safe_id(request.headers.get(CORRELATION_ID_HEADER)) or rid
        g.request_started = time.perf_counter()
        g.context_tokens = (context.request_id.set(rid), context.correlation_id.set(cid))

    @app.after_request
    def _stamp_response(response):
        response.headers[REQUEST_ID_HEADER] = context.request_id.get() or ""
        response.headers[CORRELATION_ID_HEADER] = context.correlation_id.get() or ""
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
        HTTP_REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        HTTP_LATENCY.labels(request.method, endpoint).observe(elapsed)
        if endpoint not in ("/healthz", "/metrics"):
            log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": endpoint,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
        return response

    @app.teardown_request
    def _unbind_ids(_exc: BaseException | None) -> None:
        tokens = g.pop("context_tokens", None)
        if tokens:
            context.correlation_id.reset(tokens[1])
            context.request_id.reset(tokens[0])
