"""Starts the MongoDB stand-in (in memory) for the test session, unless MONGO_URL is given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class MongoStandin:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "mongo_standin.py"), "--memory", "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("listening "):
            self.process.kill()
            raise RuntimeError(f"the MongoDB stand-in did not start: {line!r}")
        self.url = line.split(" ", 1)[1].strip()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
