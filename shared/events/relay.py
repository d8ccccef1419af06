"""Outbox relay: publishes pending events from aggregate documents, then removes them.

Polls each collection on the sparse `outbox_due` index (one cheap query per collection per poll
when idle; `wake()` cuts the wait short). For each document it publishes the pending events in
order with confirms; confirmed ones are pulled from the document in one guarded update (which
also clears `outbox_due` when nothing new arrived meanwhile). A crash between confirm and that
update republishes: consumers deduplicate on (source, id). Unroutable events and broker
failures leave the events pending and push `outbox_due` back with a growing pause.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.collection import Collection

from shared.events.metrics import OUTBOX_BACKLOG, PUBLISH_FAILED
from shared.events.publisher import ConfirmedPublisher, PublishFailed, Unroutable

log = logging.getLogger("events.relay")
BATCH = 50
BACKLOG_EVERY_S = 10.0
UNROUTABLE_PAUSE = timedelta(seconds=5)


class OutboxRelay:
    name = "outbox-relay"

    def __init__(
        self,
        collections: Sequence[Collection],
        publisher_factory: Callable[[], ConfirmedPublisher],
        poll_interval_s: float = 0.5,
    ) -> None:
        self.collections = list(collections)
        self.publisher_factory = publisher_factory
        self.poll_interval_s = poll_interval_s
        self._wake = threading.Event()
        self._publisher: ConfirmedPublisher | None = None
        self._failures = 0
        self._last_backlog = 0.0

    def wake(self) -> None:
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                busy = False
                try:
                    busy = self.relay_once()
                    self._failures = 0
                except PublishFailed as error:
                    self._failures += 1
                    log.warning(
                        "broker unavailable; events stay pending", extra={"error": str(error)}
                    )
                self._report_backlog()
                if not busy:
                    pause = (
                        self.poll_interval_s
                        if not self._failures
                        else min(0.25 * 2**self._failures, 3.0)
                    )
                    self._wake.wait(pause)
                    self._wake.clear()
        finally:
            if self._publisher is not None:
                self._publisher.close()

    def relay_once(self) -> bool:
        """Publish what is due in every collection; True if anything was published."""
        published_any = False
        for collection in self.collections:
            now = datetime.now(UTC)
            due = collection.find({"outbox_due": {"$lte": now}}, {"outbox": 1, "outbox_seq": 1})
            for document in due.sort("outbox_due", 1).limit(BATCH):
                published_any |= self._relay_document(collection, document)
        return published_any

    def _relay_document(self, collection: Collection, document: dict[str, Any]) -> bool:
        publisher = self._publisher = self._publisher or self.publisher_factory()
        sent: list[str] = []
        try:
            for item in document.get("outbox", []):
                try:
                    publisher.publish(
                        item["exchange"], item["routing_key"], _body(item), message_id=item["id"]
                    )
                except PublishFailed:
                    PUBLISH_FAILED.labels(exchange=item["exchange"]).inc()
                    raise
                sent.append(item["id"])
        except Unroutable as error:
            log.error(
                "unroutable event stays pending",
                extra={"event_id": item["id"], "error": str(error)},
            )
            self._mark_sent(
                collection, document, sent, retry_at=datetime.now(UTC) + UNROUTABLE_PAUSE
            )
            return bool(sent)
        except PublishFailed:
            self._mark_sent(collection, document, sent, retry_at=None)
            raise
        self._mark_sent(collection, document, sent, retry_at=None)
        return bool(sent)

    def _mark_sent(
        self,
        collection: Collection,
        document: dict[str, Any],
        sent: list[str],
        retry_at: datetime | None,
    ) -> None:
        if not sent and retry_at is None:
            return
        pull = {"$pull": {"outbox": {"id": {"$in": sent}}}} if sent else {}
        everything_sent = len(sent) == len(document.get("outbox", []))
        if everything_sent:
            guarded = {"_id": document["_id"], "outbox_seq": document.get("outbox_seq")}
            if collection.update_one(guarded, {**pull, "$unset": {"outbox_due": ""}}).matched_count:
                return
        later = {"$set": {"outbox_due": retry_at}} if retry_at else {}
        collection.update_one({"_id": document["_id"]}, {**pull, **later})

    def _report_backlog(self) -> None:
        now = datetime.now(UTC).timestamp()
        if now - self._last_backlog < BACKLOG_EVERY_S:
            return
        self._last_backlog = now
        for collection in self.collections:
            count = collection.count_documents({"outbox_due": {"$exists": True}})
            OUTBOX_BACKLOG.labels(collection=collection.name).set(count)


def _body(item: dict[str, Any]) -> bytes:
    return json.dumps(item["event"], separators=(",", ":"), default=str).encode()
