"""Run the services as real processes (gunicorn API, worker) for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests

from testkit.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """A child process whose output goes to a log file under the test's tmp dir."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._terminated = False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, signum: int) -> None:
        self.popen.send_signal(signum)

    def kill(self) -> None:
        self.popen.kill()
        self.popen.wait(timeout=10)

    def wait(self, timeout: float = 30) -> int:
        return self.popen.wait(timeout=timeout)

    def terminate(self) -> None:
        """SIGTERM (once), without waiting: `stop()` then waits (several processes end at once)."""
        if self.popen.poll() is None and not self._terminated:
            self.popen.send_signal(signal.SIGTERM)
            self._terminated = True

    def stop(self, timeout: float = 30) -> int | None:
        if self.popen.poll() is None:
            self.terminate()
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()
        return self.popen.returncode


class Api(Process):
    def __init__(
        self,
        service: str,
        env: dict[str, str],
        log_dir: Path,
        workers: int = 1,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [
            str(VENV_BIN / "gunicorn"),
            "-c",
            "python:shared.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            f"services.{service}.app:create_app()",
        ]
        super().__init__(f"{service}-api", argv, env, log_dir)

    def wait_live(self, timeout: float = 180) -> None:  # 2 shared cores: slow under load
        def live() -> bool:
            assert self.popen.poll() is None, f"{self.name} exited:\n{self.log()}"
            return requests.get(f"{self.url}/healthz", timeout=5).status_code == 200

        wait_until(live, timeout=timeout, message=f"{self.name} to answer /healthz")


class Worker(Process):
    """A service's worker; `respawned`: under `make run`'s supervisor (tools/devstack/respawn.py),
    which starts it again when it dies (the soak kills it)."""

    def __init__(
        self,
        service: str,
        env: dict[str, str],
        log_dir: Path,
        name: str | None = None,
        *,
        respawned: bool = False,
    ) -> None:
        self.heartbeat = log_dir / f"{name or service + '-worker'}.heartbeat"
        self.heartbeat.unlink(missing_ok=True)  # touched anew once this process runs
        env = {**env, "WORKER_HEARTBEAT_FILE": str(self.heartbeat)}
        port = env.get("WORKER_METRICS_PORT")
        self.metrics_url = f"http://127.0.0.1:{port}/metrics" if port else None
        supervisor = [sys.executable, "-m", "tools.devstack.respawn"] if respawned else []
        super().__init__(
            name or f"{service}-worker",
            [*supervisor, sys.executable, "-m", f"services.{service}.worker"],
            env,
            log_dir,
        )


def python_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env
