"""Container healthchecks: `python -m shared.healthcheck api|worker`.

api: GET /readyz on the local API. worker: the worker's heartbeat file is fresh.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.request

MAX_HEARTBEAT_AGE_S = 60


def check_api(url: str = "http://127.0.0.1:8000/readyz") -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def check_worker(path: str | None = None) -> bool:
    path = path or os.environ.get("WORKER_HEARTBEAT_FILE") or "/tmp/worker-heartbeat"
    try:
        return time.time() - os.path.getmtime(path) < MAX_HEARTBEAT_AGE_S
    except OSError:
        return False


if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else "api"
    ok = check_worker() if kind == "worker" else check_api()
    sys.exit(0 if ok else 1)
