"""Every page says what it cost in a `Server-Timing` header: the whole page's server time and
the API calls it made (`app;dur=41.2, api;dur=30.5;desc="3 calls"`), so a browser's developer
tools and `make bench` see the same figures, and a page that calls an API per row shows it."""

from __future__ import annotations

import time

from flask import Flask, Response, g

from services.console.api_clients.http import CallTally, tally


def init_server_timing(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.page_started = time.perf_counter()
        g.api_tally = CallTally()
        g.api_tally_token = tally.set(g.api_tally)

    @app.after_request
    def _report(response: Response) -> Response:
        counted: CallTally | None = g.get("api_tally")
        if counted is not None:
            page_ms = (time.perf_counter() - g.page_started) * 1000
            response.headers["Server-Timing"] = (
                f"app;dur={page_ms:.1f}, "
                f'api;dur={counted.seconds * 1000:.1f};desc="{counted.calls} calls"'
            )
            tally.reset(g.api_tally_token)
        return response
