"""Deliveries claimed as they are planned, handed to this worker's sender loops in memory.

Without it, a delivery due at once costs two writes before it is sent: the planner's insert,
then a sender's claim. With it, the planner inserts the deliveries due now already claimed by
this worker (`pre_claimed`: the same fields a claim sets, lease included) and queues them here;
a sender loop takes one from here before it asks the store. One write saved per delivery, and
one round trip less before it goes out.

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
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from ..repository.deliveries import DeliveryStore, due_now, pre_claimed

Clock = Callable[[], datetime]


class Handoff:
    def __init__(self, lease_s: float, capacity: int, clock: Clock) -> None:
        self.lease_s, self.capacity, self.clock = lease_s, capacity, clock
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:handoff"
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._lock = threading.Lock()

    def claim_new(self, planned: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The planned deliveries, those due now pre-claimed while there is room here."""
        now, room = self.clock(), self.capacity - len(self._queue)
        documents = []
        for delivery in planned:
            if room > 0 and due_now(delivery, now):
                delivery, room = pre_claimed(delivery, now, self.worker_id, self.lease_s), room - 1
            documents.append(dict(delivery))
        return documents

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
