"""A minimal supervisor for one worker under `make run`: restarts it when it exits non-zero.

    python -m tools.devstack.respawn CMD [ARGS...]

A worker exits non-zero when it cannot go on (lost broker connection it could not recover, a
failed ack): it is restarted after a growing pause (1 s up to 30 s; back to 1 s once a worker
has run for `STEADY_S`, so a worker killed now and then is not kept down ever longer).
SIGTERM/SIGINT are passed on, and once the worker exits after one, so does this (with the
worker's code).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

STEADY_S = 30.0
stopping = threading.Event()


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m tools.devstack.respawn CMD [ARGS...]", file=sys.stderr)
        return 2
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: object) -> None:
        stopping.set()
        if child and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    pause = 1.0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(argv)
        code = child.wait()
        if stopping.is_set() or code == 0:
            return code
        if time.monotonic() - started >= STEADY_S:
            pause = 1.0
        print(
            f"respawn: {' '.join(argv)} exited with {code}; restarting in {pause:.0f} s", flush=True
        )
        if stopping.wait(pause):
            return code
        pause = min(pause * 2, 30.0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
