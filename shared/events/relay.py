"""Outbox relay: publishes pending events from aggregate documents, then removes them.

Polls each collection on the sparse `outbox_due` index (one cheap query per collection per poll
when idle; `wake()` cuts the wait short). For each due document it publishes the pending events
in order with confirms; then the confirmed ones are pulled from all the documents of the poll in
ONE `update` command (a guarded statement per document, which also clears `outbox_due` when
nothing new arrived meanwhile). A crash between confirm and that command republishes: consumers
deduplicate on (source, id). Unroutable events and broker failures leave the events pending and
push `outbox_due` back with a growing pause; a store or broker outage (`shared.outages`) makes
the relay wait with a growing pause (up to 3 s) and try again, never stop.

An event the broker refuses (a nack: a queue it routes to is full, `shared.events.policies`)
stays pending and its document is due again in `REFUSED_PAUSE`; the relay goes on with the next
document, so one full queue holds only the events bound for it. Within a poll, once a route
(exchange, routing key) was refused, later documents for it wait without asking the broker again.

After a poll the relay waits for the next one (or a wake) unless a collection returned a full
batch: then more may be due at once, and it polls again straight away.

What the relay asks the store is paced (`_Pacing`), because every service's relay shares the
store with the work itself: a collection whose look found nothing is looked at again after a
growing pause (the poll interval doubled each time, up to `IDLE_POLL_MAX_S`), one that found
something at the poll interval, and for `WARM_FOR_S` after it last did (a collection with steady
traffic, say an event a second from an API, is not left to its longest pause between two
events: that pause was the p99 of the loop's stages at low rates). A wake (the worker's consumer
saved events) looks at once at the warm collections, or at every collection when none is (a
quiet system); the others within `IDLE_POLL_MAX_S`. Woken polls come at most every
`WOKEN_GAP_S`, so a busy consumer waking it after every event does not keep the relay querying
back to back.
Measured in the soak on the MongoDB stand-in: intake's relay, polling its eight collections twice a second and
counting their backlog every 10 s, was never idle and took the store's time from the consumers,
whose backlog (partners' milestones) then outgrew the settle deadline.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.collection import Collection

from shared import outages, pause_points
from shared.events.metrics import OUTBOX_BACKLOG, PUBLISH_FAILED
from shared.events.publisher import ConfirmedPublisher, PublishFailed, Refused, Unroutable

log = logging.getLogger("events.relay")
BATCH = 50
BACKLOG_EVERY_S = 60.0
IDLE_POLL_MAX_S = 1.0  # an API's event in a quiet collection waits at most this
WOKEN_GAP_S = 0.5  # woken polls at most this often (or once a poll interval, if shorter)
WARM_FOR_S = 2.0  # a collection that found events is looked at each poll interval this long after
UNROUTABLE_PAUSE = timedelta(seconds=5)
REFUSED_PAUSE = timedelta(seconds=1)


@dataclass
class _Relayed:
    """What happened to one document's pending events in this poll."""

    document: dict[str, Any]
    sent: list[str] = field(default_factory=list)
    retry_at: datetime | None = None

    @property
    def everything_sent(self) -> bool:
        return len(self.sent) == len(self.document.get("outbox", []))

    def pull(self) -> dict[str, Any]:
        return {"$pull": {"outbox": {"id": {"$in": self.sent}}}} if self.sent else {}


class _Pacing:
    """When the relay looks at each collection next (see the module's docstring)."""

    def __init__(
        self,
        names: Sequence[str],
        interval_s: float,
        idle_max_s: float,
        warm_for_s: float = WARM_FOR_S,
    ) -> None:
        self.interval_s, self.idle_max_s = interval_s, max(idle_max_s, interval_s)
        self.warm_for_s = warm_for_s
        self._pause = dict.fromkeys(names, interval_s)
        self._next_at = dict.fromkeys(names, 0.0)
        self._found_at = dict.fromkeys(names, float("-inf"))

    def due(self, names: Sequence[str], woken: bool) -> list[str]:
        now = time.monotonic()
        warm = [n for n in names if self._pause[n] == self.interval_s]
        at_once = set((warm or names) if woken else ())
        return [n for n in names if n in at_once or self._next_at[n] <= now]

    def looked(self, name: str, found: int) -> None:
        """`found`: how many due documents the look returned (a full batch: look again at once)."""
        now = time.monotonic()
        if found:
            self._found_at[name] = now
        warm = now - self._found_at[name] < self.warm_for_s
        pause = self.interval_s if warm else min(self._pause[name] * 2, self.idle_max_s)
        self._pause[name] = pause
        self._next_at[name] = now + (0.0 if found >= BATCH else pause)

    def wait_s(self) -> float:
        """Until the next collection's look is due (at least a poll interval)."""
        return max(self.interval_s, min(self._next_at.values(), default=0.0) - time.monotonic())


class OutboxRelay:
    name = "outbox-relay"

    def __init__(
        self,
        collections: Sequence[Collection],
        publisher_factory: Callable[[], ConfirmedPublisher],
        poll_interval_s: float = 0.5,
        idle_poll_max_s: float = IDLE_POLL_MAX_S,
    ) -> None:
        self.collections = list(collections)
        self.publisher_factory = publisher_factory
        self.poll_interval_s = poll_interval_s
        self._wake = threading.Event()
        self._publisher: ConfirmedPublisher | None = None
        self._failures = 0
        self._last_backlog = 0.0
        self._more_due = False
        self._refused: set[tuple[str, str]] = set()
        self._pacing = _Pacing([c.name for c in self.collections], poll_interval_s, idle_poll_max_s)

    def wake(self) -> None:
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        woken = True  # the first poll looks at every collection
        try:
            while not stop.is_set():
                self._wake.clear()  # a wake from here on asks for another poll after this one
                names = self._pacing.due([c.name for c in self.collections], woken)
                try:
                    self._relay([c for c in self.collections if c.name in names])
                    self._failures = 0
                except PublishFailed as error:
                    self._failures += 1
                    log.warning(
                        "broker unavailable; events stay pending", extra={"error": str(error)}
                    )
                except outages.OUTAGE_ERRORS as error:
                    self._failures += 1
                    log.warning(
                        "store or broker unavailable; events stay pending",
                        extra={"error": f"{type(error).__name__}: {str(error)[:300]}"},
                    )
                self._report_backlog()
                if self._failures:
                    self._wake.wait(outages.pause_s(self._failures))
                    woken = True  # after an outage: the warm collections at once
                elif self._more_due:
                    woken = False  # the full batch's collection is due again at once
                else:
                    started = time.monotonic()
                    woken = self._wake.wait(self._pacing.wait_s())
                    if woken:  # not back to back however often a consumer wakes it
                        gap = min(self.poll_interval_s, WOKEN_GAP_S)
                        stop.wait(max(0.0, gap - (time.monotonic() - started)))
        finally:
            if self._publisher is not None:
                self._publisher.close()

    def relay_once(self) -> bool:
        """Publish what is due in every collection; True if anything was published."""
        return self._relay(self.collections)

    def _relay(self, collections: Sequence[Collection]) -> bool:
        published_any = self._more_due = False
        self._refused.clear()
        for collection in collections:
            now = datetime.now(UTC)
            due = collection.find({"outbox_due": {"$lte": now}}, {"outbox": 1, "outbox_seq": 1})
            documents = list(due.sort("outbox_due", 1).limit(BATCH))
            self._pacing.looked(collection.name, found=len(documents))
            self._more_due |= len(documents) == BATCH
            published_any |= self._relay_batch(collection, documents)
        return published_any

    def _relay_batch(self, collection: Collection, documents: list[dict[str, Any]]) -> bool:
        relayed: list[_Relayed] = []
        try:
            for document in documents:
                relayed.append(_Relayed(document))
                self._publish_document(relayed[-1])
        finally:  # what was confirmed is marked, even when the broker failed midway
            self._mark_sent(collection, relayed)
        return any(r.sent for r in relayed)

    def _publish_document(self, relayed: _Relayed) -> None:
        publisher = self._publisher = self._publisher or self.publisher_factory()
        for item in relayed.document.get("outbox", []):
            route = (item["exchange"], item["routing_key"])
            if route in self._refused:  # its queue is full: wait, without asking again
                relayed.retry_at = datetime.now(UTC) + REFUSED_PAUSE
                return
            try:
                publisher.publish(
                    item["exchange"],
                    item["routing_key"],
                    _body(item),
                    message_id=item["id"],
                    properties=item.get("properties"),
                )
            except Unroutable as error:
                log.error(
                    "unroutable event stays pending",
                    extra={"event_id": item["id"], "error": str(error)},
                )
                relayed.retry_at = datetime.now(UTC) + UNROUTABLE_PAUSE
                return
            except Refused as error:
                log.warning(
                    "the broker refused an event (a queue is full); it stays pending",
                    extra={"event_id": item["id"], "error": str(error)},
                )
                self._refused.add(route)
                relayed.retry_at = datetime.now(UTC) + REFUSED_PAUSE
                return
            except PublishFailed:
                PUBLISH_FAILED.labels(exchange=item["exchange"]).inc()
                raise
            relayed.sent.append(item["id"])

    def _mark_sent(self, collection: Collection, relayed: list[_Relayed]) -> None:
        """One `update` command for the poll: each fully sent document cleared (if nothing new
        arrived meanwhile); the others, and any whose guard missed, pulled one by one."""
        sent = [event_id for r in relayed for event_id in r.sent]
        if sent:
            pause_points.reach("relay.before_mark", collection.name, event_ids=sent)
        done = [r for r in relayed if r.everything_sent]
        rest = [r for r in relayed if not r.everything_sent and (r.sent or r.retry_at)]
        cleared = [
            UpdateOne(
                {"_id": r.document["_id"], "outbox_seq": r.document.get("outbox_seq")},
                {**r.pull(), "$unset": {"outbox_due": ""}},
            )
            for r in done
        ]
        if cleared and collection.bulk_write(cleared, ordered=False).matched_count < len(done):
            rest += done  # more events arrived in some: pull what was sent, leave them due
        pulled = [
            UpdateOne(
                {"_id": r.document["_id"]},
                {**r.pull(), **({"$set": {"outbox_due": r.retry_at}} if r.retry_at else {})},
            )
            for r in rest
        ]
        if pulled:
            collection.bulk_write(pulled, ordered=False)

    def _report_backlog(self) -> None:
        now = datetime.now(UTC).timestamp()
        if now - self._last_backlog < BACKLOG_EVERY_S:
            return
        self._last_backlog = now
        try:
            for collection in self.collections:
                count = collection.count_documents({"outbox_due": {"$exists": True}})
                OUTBOX_BACKLOG.labels(collection=collection.name).set(count)
        except outages.STORE_OUTAGE_ERRORS:
            pass  # the store is away: the gauge keeps its last value until the next report


def _body(item: dict[str, Any]) -> bytes:
    return json.dumps(item["event"], separators=(",", ":"), default=str).encode()
