"""Runs a worker's components (consumers, relays, schedulers) in threads of the test's process."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from shared.worker import Component


class Threads:
    """Runs worker components in threads until `stop()`."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, components: Sequence[Component]) -> Sequence[Component]:
        for component in components:
            thread = threading.Thread(target=component.run, args=(self.stop_event,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return components

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=30)
