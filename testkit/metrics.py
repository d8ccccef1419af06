"""A process's Prometheus metrics, read over HTTP (the services' /metrics, a worker's port)."""

from __future__ import annotations

import re
from collections import Counter

import requests

LABEL = re.compile(r'(\w+)="([^"]*)"')


def metric_samples(url: str, name: str) -> dict[str, float]:
    """{labels text: value} of one metric from a Prometheus text endpoint."""
    samples = {}
    for line in requests.get(url, timeout=5).text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            labels, _, value = line.rpartition(" ")
            samples[labels.removeprefix(name)] = float(value)
    return samples


def by_label(samples: dict[str, float], label: str) -> Counter[str]:
    """The samples summed by the value of one label (e.g. `command`)."""
    summed: Counter[str] = Counter()
    for labels, value in samples.items():
        found = dict(LABEL.findall(labels))
        summed[found.get(label, "")] += value
    return summed


def mongo_commands(url: str) -> Counter[str]:
    """MongoDB commands sent so far by the process, by command (`mongo_commands_total`)."""
    return by_label(metric_samples(url, "mongo_commands_total"), "command")
