"""Starts the MongoDB stand-in (in memory) for the test session, unless MONGO_URL is given.

A test that kills the store starts one of its own (never the session's): durable on SQLite
(`path`) so that, restarted on the same port (`port=store.port`), it comes back with its data.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class MongoStandin:
    def __init__(self, path: Path | None = None, port: int = 0) -> None:
        storage = ["--path", str(path)] if path else ["--memory"]
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tools.devstack.mongo_standin",
                *storage,
                "--port",
                str(port),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("listening "):
            self.process.kill()
            raise RuntimeError(f"the MongoDB stand-in did not start: {line!r}")
        self.url = line.split(" ", 1)[1].strip()
        self.port = int(self.url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing is flushed or closed cleanly."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
