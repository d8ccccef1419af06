"""Every command a MongoClient sends, captured by pymongo's command monitoring: to count the
round trips of a path (`Mongo(settings, [capture])`, then read `counts` or `commands`)."""

from __future__ import annotations

import threading
from collections import Counter

from pymongo import monitoring


class CommandCapture(monitoring.CommandListener):
    """`commands`: (command name, collection) in the order sent; `counts`: by command name."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, str]] = []
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()  # the client's threads (relay, consumer) all report here

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        with self._lock:
            self.commands.append((name, str(event.command.get(name))))
            self.counts[name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def clear(self) -> None:
        with self._lock:
            self.commands.clear()
            self.counts.clear()
