"""HTTP load for the benchmark: threads with `requests.Session` on loopback, bounded in time and
count; and the bare Flask app (tools/bench/bare_app.py) under the services' gunicorn settings."""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path
from typing import Any

import requests

from testkit.processes import VENV_BIN, Process, free_port
from testkit.waiting import wait_until
from tools.bench.cpu import sample, spent

THREADS = 4
MAX_REQUESTS = 100_000


def load(
    url: str, headers: dict[str, str], seconds: float, threads: int = THREADS
) -> dict[str, Any]:
    """GET `url` from `threads` threads for `seconds`; counts answers and their latency."""
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        session = requests.Session()
        session.headers.update(headers)
        while time.perf_counter() < deadline and len(latencies) < MAX_REQUESTS:
            started = time.perf_counter()
            status = session.get(url, timeout=10).status_code
            with lock:
                (latencies if status == 200 else errors).append(
                    time.perf_counter() - started if status == 200 else status
                )
        session.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
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
    name: str, pid: int, url: str, headers: dict[str, str], seconds: float
) -> dict[str, Any]:
    """Requests/s and CPU seconds per request of the gunicorn tree at `pid` serving `url`."""
    load(url, headers, min(1.0, seconds))  # warm-up: imports, connections, caches
    before = sample({name: pid})
    result = load(url, headers, seconds)
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
