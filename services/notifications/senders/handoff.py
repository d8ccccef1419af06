"""Deliveries claimed as they are planned, handed to this worker's sender loops in memory.

Without it, a delivery due at once costs two writes before it is sent: the planner's insert,
then a sender's claim. With it, `NewDeliveries` inserts the deliveries due now already claimed
by this worker (`pre_claimed`: the same fields a claim sets, lease included) and queues them in
the `Handoff`; a sender loop takes one from there before it asks the store. One write saved per
delivery, and one round trip less before it goes out.

Nothing is lost: the store stays the truth. A delivery whose worker dies before sending it is
due again when its lease runs out (as for any claimed delivery); one that waited here past half
its lease is left to that path; a worker that stops gives back what it did not send. The queue
is bounded: when it is full, new deliveries are inserted unclaimed and claimed from the store.
"""

from __future__ import annotations

import collections
import os
import socket
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from shared.clock import Clock

from ..domain.deliveries import due_ids
from ..repository.deliveries import DeliveryStore, pre_claimed


class Handoff:
    def __init__(self, lease_s: float, capacity: int, clock: Clock) -> None:
        self.lease_s, self.capacity, self.clock = lease_s, capacity, clock
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:handoff"
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._lock = threading.Lock()

    def claim_new(
        self, planned: Sequence[Mapping[str, Any]], due: Collection[str], now: datetime
    ) -> list[dict[str, Any]]:
        """The planned deliveries, those `due` now pre-claimed while there is room here."""
        room = max(self.capacity - len(self._queue), 0)
        chosen = [d["_id"] for d in planned if d["_id"] in due][:room]
        return pre_claimed(planned, set(chosen), now, self.worker_id, self.lease_s)

    def offer(self, inserted: Iterable[Mapping[str, Any]]) -> int:
        """Queue the inserted deliveries that were pre-claimed; returns how many."""
        mine = [dict(d) for d in inserted if d.get("claimed_by") == self.worker_id]
        with self._lock:
            self._queue.extend(mine)
        return len(mine)

    def take(self) -> dict[str, Any] | None:
        """The next delivery to send, with at least half its lease left; None when empty."""
        fresh_until = self.clock() + timedelta(seconds=self.lease_s / 2)
        with self._lock:
            while self._queue:
                delivery = self._queue.popleft()
                if delivery["lease_until"] >= fresh_until:
                    return delivery
        return None  # stale ones are claimed from the store when their lease runs out

    def release(self, store: DeliveryStore) -> None:
        """Give back what was not sent (the worker is stopping): due again at once."""
        with self._lock:
            left, self._queue = list(self._queue), collections.deque()
        store.release(left, self.clock())


class NewDeliveries:
    """Where the planning use case saves an event's deliveries, in one insert: those due now
    claimed for this worker's senders and handed over (with a handoff, while it has room), the
    rest left in the store; then the senders are told where to look."""

    def __init__(
        self,
        store: DeliveryStore,
        handoff: Handoff | None,
        clock: Clock,
        *,
        wake_store: Callable[[], None] = lambda: None,
        wake_handoff: Callable[[], None] = lambda: None,
    ) -> None:
        self.store, self.handoff, self.clock = store, handoff, clock
        self.wake_store, self.wake_handoff = wake_store, wake_handoff

    def save(self, planned: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Insert what is new; returns it (empty: the event was applied before)."""
        if self.handoff is None:
            inserted = self.store.insert_planned(planned)
            self.wake_store()
            return inserted
        now = self.clock()
        due = due_ids(planned, now)
        inserted = self.store.insert_planned(self.handoff.claim_new(planned, due, now))
        if self.handoff.offer(inserted):
            self.wake_handoff()
        if any(d["_id"] in due and not d.get("claim") for d in inserted):
            self.wake_store()  # due now in the store (later ones: the senders' timer)
        return inserted
