"""The bare hop, measured: tools/bench/bare_consumer.py as its own process, fed events on the
same broker and store as the services; CPU seconds per hop from its `/proc` stat.

Two ways: `paced` (the fair one) feeds it at a given rate (the loop's rate of working hops) with
the services' prefetch (1) and heartbeats (20 s), so it pays what they pay per hop at that rate,
idle waits included; `burst` (the old method) publishes each round at once to a consumer with
prefetch 10 and heartbeats off.
"""

from __future__ import annotations

import json
import queue
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
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


def _publish(url: str, count: int, rate_per_s: float | None = None) -> None:
    """`count` events, all at once or one every 1/rate seconds."""
    with Connection(url, transport_options={"confirm_publish": True}) as connection:
        producer = Producer(connection.channel())
        started = time.perf_counter()
        for i in range(count):
            if rate_per_s:
                time.sleep(max(0.0, started + i / rate_per_s - time.perf_counter()))  # pacing
            event = {"id": uuid.uuid4().hex, "target": f"t{i % TARGETS}"}
            producer.publish(
                json.dumps(event).encode(),
                exchange="bench.bare",
                routing_key="bare.in",
                delivery_mode=2,
                mandatory=True,
                timeout=5,
            )


@dataclass(frozen=True)
class Feeding:
    """How the bare consumer is fed and set up."""

    rate_per_s: float | None  # None: each round published at once (burst)
    prefetch: int
    heartbeat_s: int

    @classmethod
    def paced(cls, rate_per_s: float) -> Feeding:
        return cls(round(rate_per_s, 2), prefetch=1, heartbeat_s=20)


BURST = Feeding(None, prefetch=10, heartbeat_s=0)


def bare_hop(
    amqp_url: str,
    mongo_url: str,
    db: str,
    warmup: int,
    count: int,
    rounds: int = ROUNDS,
    feeding: Feeding = BURST,
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
        "--prefetch",
        str(feeding.prefetch),
        "--heartbeat",
        str(feeding.heartbeat_s),
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
            _publish(amqp_url, size, feeding.rate_per_s)
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
        "feeding": {
            "rate_per_s": feeding.rate_per_s or "burst",
            "prefetch": feeding.prefetch,
            "heartbeat_s": feeding.heartbeat_s,
        },
        "events": size * rounds,
        "seconds": round(elapsed, 2),
        "hops_per_s": round(size * rounds / elapsed, 1),
        "cpu_ms_per_hop_by_round": per_hop_ms,
        "cpu_ms_per_hop": statistics.median(per_hop_ms),
    }
