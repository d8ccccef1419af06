"""The notifications service as real processes for end-to-end tests: the API under gunicorn
(`testkit.processes.Api`) and workers with test tuning (`tuned_worker`)."""

from __future__ import annotations

import sys
from pathlib import Path

from testkit.processes import Process
from testkit.waiting import wait_until


class TunedWorker(Process):
    """`python -m tests.e2e.notifications.tuned_worker` with its lease and sender count."""

    def __init__(
        self, env: dict[str, str], log_dir: Path, name: str, lease_s: float = 3, senders: int = 1
    ) -> None:
        self.heartbeat = log_dir / f"{name}.heartbeat"
        env = {
            **env,
            "WORKER_HEARTBEAT_FILE": str(self.heartbeat),
            "NOTIFICATIONS_TEST_LEASE_S": str(lease_s),
            "NOTIFICATIONS_TEST_SENDERS": str(senders),
        }
        argv = [sys.executable, "-m", "tests.e2e.notifications.tuned_worker"]
        super().__init__(name, argv, env, log_dir)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_started(self, timeout: float = 30) -> None:
        def beating() -> bool:
            assert self.popen.poll() is None, f"{self.name} exited:\n{self.log()}"
            return self.heartbeat.exists()

        wait_until(beating, timeout=timeout, message=f"{self.name} to start")
