"""CPU seconds of processes and their children (gunicorn workers), from `/proc/<pid>/stat`.

utime + stime of each live process; a sample maps a name to {pid: seconds} for the process and
every descendant, so a delta counts processes that appeared in between from zero.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
Sample = dict[str, dict[int, float]]


def cpu_seconds(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (14th, 15th of stat)


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def descendants(root: int) -> list[int]:
    """The process and every process below it."""
    parents = {
        int(p.name): _parent(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit()
    }
    found, frontier = [root], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def sample(roots: Mapping[str, int]) -> Sample:
    taken: Sample = {}
    for name, root in roots.items():
        taken[name] = {}
        for pid in descendants(root):
            seconds = cpu_seconds(pid)
            if seconds is not None:
                taken[name][pid] = seconds
    return taken


def spent(before: Sample, after: Sample) -> dict[str, float]:
    """CPU seconds each named process tree used between two samples."""
    return {
        name: round(sum(s - before.get(name, {}).get(pid, 0.0) for pid, s in pids.items()), 3)
        for name, pids in after.items()
    }


def rss_mb(pid: int) -> float | None:
    """Resident memory of one process (VmRSS), in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def resident_memory(roots: Mapping[str, int]) -> dict[str, dict[str, float]]:
    """Per named process tree: the RSS (MB) of each process in it (an API's gunicorn master and
    workers apart) and their sum."""
    found: dict[str, dict[str, float]] = {}
    for name, root in roots.items():
        sizes = {str(pid): rss for pid in descendants(root) if (rss := rss_mb(pid)) is not None}
        found[name] = {**sizes, "total": round(sum(sizes.values()), 1)}
    return found
