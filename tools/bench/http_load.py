"""HTTP load for the benchmark: threads with `requests.Session` on loopback, bounded in time and
count; and the bare Flask app (tools/bench/bare_app.py) under the services' gunicorn settings."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

from testkit.processes import VENV_BIN, Process, free_port
from testkit.waiting import wait_until
from tools.bench.cpu import sample, spent

THREADS = 4
MAX_REQUESTS = 100_000


def load(
    urls: Sequence[str],
    headers: dict[str, str],
    seconds: float,
    threads: int = THREADS,
    method: str = "GET",
    bodies: Sequence[dict[str, Any] | None] = (None,),
) -> dict[str, Any]:
    """`method` from `threads` threads for `seconds`, thread k on `urls[k % len(urls)]` (a write
    endpoint: a resource per thread, so they do not race), request j of a thread sending
    `bodies[j % len(bodies)]` as JSON; counts answers and their latency."""
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(url: str) -> None:
        session = requests.Session()
        session.headers.update(headers)
        sent = 0
        while time.perf_counter() < deadline and len(latencies) < MAX_REQUESTS:
            started = time.perf_counter()
            body = bodies[sent % len(bodies)]
            status = session.request(method, url, json=body, timeout=10).status_code
            sent += 1
            with lock:
                (latencies if status == 200 else errors).append(
                    time.perf_counter() - started if status == 200 else status
                )
        session.close()

    started = time.perf_counter()
    workers = [
        threading.Thread(target=client, args=(urls[k % len(urls)],), daemon=True)
        for k in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=seconds + 30)
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "seconds": round(elapsed, 2),
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
    }


def measure(
    name: str,
    pid: int,
    urls: Sequence[str],
    headers: dict[str, str],
    seconds: float,
    method: str = "GET",
    bodies: Sequence[dict[str, Any] | None] = (None,),
) -> dict[str, Any]:
    """Requests/s and CPU seconds per request of the gunicorn tree at `pid` (see `load`)."""
    load(urls, headers, min(1.0, seconds), method=method, bodies=bodies)  # warm-up
    before = sample({name: pid})
    result = load(urls, headers, seconds, method=method, bodies=bodies)
    cpu = spent(before, sample({name: pid}))[name]
    served = result["requests"]
    return {
        **result,
        "requests_per_s": round(served / result["seconds"], 1),
        "cpu_s": cpu,
        "cpu_ms_per_request": round(cpu / served * 1000, 3) if served else None,
    }


def bare_app(env: dict[str, str], log_dir: Path, workers: int) -> Process:
    port = free_port()
    argv = [
        str(VENV_BIN / "gunicorn"),
        "-c",
        "python:shared.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "tools.bench.bare_app:create_app()",
    ]
    process = Process("bare-api", argv, env, log_dir)
    process.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    wait_until(
        lambda: requests.get(f"{process.url}/healthz", timeout=2).ok,  # type: ignore[attr-defined]
        timeout=30,
        message="the bare app",
    )
    return process
