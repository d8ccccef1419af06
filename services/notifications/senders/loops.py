"""The sender loops: worker threads that take a delivery and have it sent (`usecases.sending`).

Each `SenderLoop` (a worker component; a worker runs `SenderTuning.threads` of them) takes a
delivery handed over in memory (`handoff`), else claims the most overdue one atomically
(`DeliveryStore.claim`), so two loops or two workers never hold the same one. A worker killed
mid-send loses nothing: its lease runs out and another loop takes the delivery again, with the
same idempotency key (see `channels.outbound`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared import outages

from .. import metrics
from ..repository.deliveries import DeliveryStore
from .handoff import Handoff

log = logging.getLogger("notifications.sender")


class SenderLoop:
    """A worker component: delivers what the handoff holds, else claims from the store.

    It asks the store only when it may have something: at start, when woken (new deliveries
    not handed over), after a delivery it found there, and every `idle_poll_s` (retries and
    reminders fall due by time). A `nudge` says the handoff has something: no store query.
    """

    def __init__(
        self,
        name: str,
        deliver: Callable[[dict[str, Any]], str],
        store: DeliveryStore,
        lease_s: float,
        idle_poll_s: float,
        clock: Callable[[], datetime],
        handoff: Handoff | None = None,
    ) -> None:
        self.name, self.deliver, self.store = name, deliver, store
        self.lease_s, self.idle_poll_s, self.clock, self.handoff = (
            lease_s,
            idle_poll_s,
            clock,
            handoff,
        )
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{name}"
        self._wake = threading.Event()
        self._store_due = True
        self._store_checked = 0.0
        self._outages = 0  # store outages in a row (a growing pause between looks)

    def wake(self) -> None:
        """New deliveries wait in the store."""
        self._store_due = True
        self._wake.set()

    def nudge(self) -> None:
        """New deliveries wait in the handoff."""
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                look = self._store_due or time.monotonic() - self._store_checked >= self.idle_poll_s
                if not self.run_once(from_store=look):
                    self._wake.wait(self.pause_s())
                    self._wake.clear()
        finally:
            self._give_back()

    def pause_s(self) -> float:
        """How long the loop waits after a look that found nothing to do: the idle poll, or
        through a store outage the growing pause of every looping component."""
        return outages.pause_s(self._outages) if self._outages else self.idle_poll_s

    def _give_back(self) -> None:
        """Deliveries handed over but not sent go back to the store (else: their lease runs out)."""
        if self.handoff is None:
            return
        try:
            self.handoff.release(self.store)
        except Exception:  # the store is away: they are claimed again when their lease runs out
            log.warning("could not give back handed deliveries", exc_info=True)

    def run_once(self, from_store: bool = True) -> bool:
        """Deliver one delivery (handed over, or due in the store); False when there was none."""
        try:
            delivery = self.handoff.take() if self.handoff is not None else None
            if delivery is None and from_store:
                self._store_due, self._store_checked = False, time.monotonic()
                delivery = self.store.claim(self.clock(), self.worker_id, self.lease_s)
                self._store_due |= delivery is not None
                self._outages = 0  # the store answered
            if delivery is None:
                return False
            self.deliver(delivery)
        except outages.STORE_OUTAGE_ERRORS as error:  # nobody's fault: said, without a trace
            self._outages += 1
            self._store_due = True  # looked at again after the pause
            metrics.SENDER_ERRORS.inc()
            log.warning(
                "store unavailable; deliveries wait",
                extra={"error": f"{type(error).__name__}: {str(error)[:300]}"},
            )
            return False
        except Exception:  # a bug: the lease runs out and the delivery is tried again
            metrics.SENDER_ERRORS.inc()
            log.exception("sender error")
            return False
        return True
