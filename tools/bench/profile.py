"""Where each service process spends its CPU under the benchmark: py-spy (a pinned test
requirement) attached to every process tree (an API's gunicorn workers too) while the loop runs.

`python -m tools.bench --profile` records each tree with `py-spy record --subprocesses
--nonblocking --gil --format raw` (sampling from outside: nothing changes in the services; only
the thread holding the GIL, so waits on the store or the broker, which py-spy's idle detection
misses under load, are not counted) and reports, per process, the ten costliest:

- `top_self`: functions where the samples were taken (the leaf), by module and name;
- `top_project`: the nearest frame of the project's own code (`services/`, `shared/`) above the
  leaf: which of our functions asked for the work, whatever library did it.

Shares are of the samples in which the process ran Python code (native work without the GIL,
such as argon2, is not seen).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PY_SPY = Path(sys.executable).parent / "py-spy"
RATE_HZ = 100
TOP = 10
FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
PROJECT = ("services/", "shared/")


def available() -> bool:
    return PY_SPY.exists()


class Profiler:
    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.recorders: dict[str, subprocess.Popen] = {}

    def start(self, roots: Mapping[str, int]) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in roots.items():
            self.recorders[name] = subprocess.Popen(
                [
                    str(PY_SPY),
                    "record",
                    "--pid",
                    str(pid),
                    "--subprocesses",
                    "--nonblocking",
                    "--gil",  # only the thread holding the GIL: CPU in Python, not waits
                    "--rate",
                    str(RATE_HZ),
                    "--format",
                    "raw",
                    "--output",
                    str(self.out_dir / f"{name}.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    def stop(self) -> dict[str, Any]:
        for recorder in self.recorders.values():
            recorder.send_signal(signal.SIGINT)  # py-spy writes its file and exits
        for recorder in self.recorders.values():
            try:
                recorder.wait(timeout=60)
            except subprocess.TimeoutExpired:
                recorder.kill()
        return {
            name: summarise(read_stacks(self.out_dir / f"{name}.txt")) for name in self.recorders
        }


def read_stacks(path: Path) -> Counter[tuple[str, ...]]:
    """Collapsed stacks (`frame;frame;... count`, outermost first) -> samples."""
    stacks: Counter[tuple[str, ...]] = Counter()
    if not path.exists():
        return stacks
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[tuple(stack.split(";"))] += int(count)
    return stacks


def _where(frame: str) -> tuple[str, str]:
    """(function, file) of one frame as py-spy writes it: `function (file:line)`."""
    found = FRAME.match(frame.strip())
    if not found:
        return frame.strip(), ""
    return found["function"], found["file"]


def _label(frame: str) -> str:
    function, file = _where(frame)
    return f"{_module(file)}:{function}"


def _module(file: str) -> str:
    for marker in ("site-packages/", "lib/python3.13/", *PROJECT):
        if marker in file:
            tail = file.split(marker, 1)[1]
            return (marker if marker in PROJECT else "") + tail.removesuffix(".py")
    return file.removesuffix(".py")


def _is_project(frame: str) -> bool:
    _, file = _where(frame)
    return any(f"/{part}" in file or file.startswith(part) for part in PROJECT)


def summarise(stacks: Counter[tuple[str, ...]]) -> dict[str, Any]:
    total = sum(stacks.values())
    own: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    for stack, n in stacks.items():
        frames = [f for f in stack if not f.startswith(("process ", "thread "))] or list(stack)
        own[_label(frames[-1])] += n
        project = [f for f in frames if _is_project(f)]
        asked[_label(project[-1]) if project else "(no project frame)"] += n

    def top(counts: Counter[str]) -> list[list[Any]]:
        return [[label, round(n / total, 3)] for label, n in counts.most_common(TOP)]

    return (
        {"samples": total, "top_self": top(own), "top_project": top(asked)}
        if total
        else {"samples": 0}
    )
