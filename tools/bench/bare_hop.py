"""The bare hop, measured: tools/bench/bare_consumer.py as its own process, fed events on the
same broker and store as the services; CPU seconds per hop from its `/proc` stat."""

from __future__ import annotations

import json
import queue
import statistics
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

from kombu import Connection, Producer

from testkit.processes import ROOT
from tools.bench.cpu import sample, spent

TARGETS = 50
ROUNDS = 3


def _lines(process: subprocess.Popen) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in process.stdout or []:
            lines.put(line.strip())

    threading.Thread(target=read, daemon=True).start()
    return lines


def _expect(lines: queue.Queue[str], wanted: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if lines.get(timeout=max(deadline - time.monotonic(), 0.01)) == wanted:
                return
        except queue.Empty:
            break
    raise AssertionError(f"the bare consumer did not say {wanted!r} within {timeout_s} s")


def _publish(url: str, count: int) -> None:
    with Connection(url, transport_options={"confirm_publish": True}) as connection:
        producer = Producer(connection.channel())
        for i in range(count):
            event = {"id": uuid.uuid4().hex, "target": f"t{i % TARGETS}"}
            producer.publish(
                json.dumps(event).encode(),
                exchange="bench.bare",
                routing_key="bare.in",
                delivery_mode=2,
                mandatory=True,
                timeout=5,
            )


def bare_hop(
    amqp_url: str, mongo_url: str, db: str, warmup: int, count: int, rounds: int = ROUNDS
) -> dict[str, Any]:
    """CPU per hop of the bare consumer: the median of `rounds` rounds of count/rounds events."""
    size = max(1, count // rounds)
    marks = [warmup + size * r for r in range(rounds + 1)]
    argv = [
        sys.executable,
        "-m",
        "tools.bench.bare_consumer",
        "--amqp-url",
        amqp_url,
        "--mongo-url",
        mongo_url,
        "--db",
        db,
        "--report-at",
        ",".join(str(m) for m in marks),
    ]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    per_hop_ms, elapsed = [], 0.0
    try:
        lines = _lines(process)
        _expect(lines, "ready", 30)
        _publish(amqp_url, warmup)
        _expect(lines, f"handled {warmup}", 60)
        for mark in marks[1:]:
            before, started = sample({"bare": process.pid}), time.perf_counter()
            _publish(amqp_url, size)
            _expect(lines, f"handled {mark}", 300)
            elapsed += time.perf_counter() - started
            cpu = spent(before, sample({"bare": process.pid}))["bare"]
            per_hop_ms.append(round(cpu / size * 1000, 3))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    return {
        "events": size * rounds,
        "seconds": round(elapsed, 2),
        "hops_per_s": round(size * rounds / elapsed, 1),
        "cpu_ms_per_hop_by_round": per_hop_ms,
        "cpu_ms_per_hop": statistics.median(per_hop_ms),
    }
