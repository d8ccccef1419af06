"""The `deliveries` collection: planned, claimed, sent, failed; and the delivery log's reads.

Worker side (`DeliveryStore`): an event's deliveries are inserted in one unordered
`insert_many` whose duplicate keys are the deduplication; the sender claims one due delivery
at a time with `find_one_and_update` (atomic: two workers never hold the same one) and records
the outcome with one update guarded by its claim token, the outcome event folded in (outbox).

Failure notices wait for their staff inbox's report (`open_report`), which takes them when it
is sent (`gather_notices`) and gives them its outcome (`finish_notices`): `failure_digest`.

A claim moves `send_at` to the end of the lease, so a delivery whose worker died becomes due
again by itself when the lease runs out; `attempts` counts claims, so a delivery that keeps
killing its worker still ends as failed. A delivery due at once can be claimed as it is
inserted (`pre_claimed`, the worker's in-memory handoff): one write instead of two.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from datetime import datetime, timedelta
from typing import Any

from pymongo import DESCENDING, ReturnDocument, UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.results import UpdateResult

from shared.events import outbox
from shared.ids import new_id
from shared.paging import Page, PageRequest
from shared.tenancy import TenantScoped

from ..domain.deliveries import (
    CANCELLED,
    FAILED,
    FAILURE_NOTICE,
    PENDING,
    SENT,
    SUPPRESSED,
    WAITING,
)

DUPLICATE_KEY = 11000
HIDDEN = {f: 0 for f in ("data", "address", "claim", "outbox", "outbox_due", "outbox_seq")}
"""Never shown by the delivery log: the event's data and the outbox may carry patient details."""
FILTER_FIELDS = {
    "status": "status",
    "recipient": "recipient_key",
    "event_id": "event.id",
    "event_type": "event.type",
    "channel": "channel",
    "kind": "kind",
}
PLANNED_RANGE = {"created_since": "$gte", "created_before": "$lt"}
"""The delivery log's filters (query parameters) and the fields they match; `PLANNED_RANGE`
bounds `created_at`."""
NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]
"""The log's order; `_id` breaks ties (an event's deliveries share their `created_at`)."""
TERMINAL_UNSET = {"data": "", "claim": "", "lease_until": ""}


class DeliveryStore:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    def insert_planned(self, documents: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Insert, in one command, what is new; returns it (empty: all were planned before)."""
        if not documents:
            return []
        try:
            self.collection.insert_many(list(documents), ordered=False)
        except BulkWriteError as error:
            details = error.details
            errors = details.get("writeErrors", [])
            if details.get("writeConcernErrors") or any(
                e.get("code") != DUPLICATE_KEY for e in errors
            ):
                raise
            planned_before = {e["index"] for e in errors}
            return [d for i, d in enumerate(documents) if i not in planned_before]
        return list(documents)

    def newer_session_change(self, tenant_id: str, session_id: str, time: datetime) -> bool:
        """Whether an event about this session newer than `time` was applied already."""
        found = TenantScoped(self.collection, tenant_id).find_one(
            {"session_id": session_id, "session_time": {"$gt": time}}, {"_id": 1}
        )
        return found is not None

    def cancel_session_pending(
        self,
        tenant_id: str,
        session_id: str,
        *,
        before: datetime,
        keep: Iterable[str],
        reason: str,
        now: datetime,
    ) -> int:
        """Cancel the session's pending deliveries planned by events older than `before`."""
        result: UpdateResult = TenantScoped(self.collection, tenant_id).update_many(
            {
                "session_id": session_id,
                "session_time": {"$lt": before},
                "status": {"$in": list(PENDING)},
                "_id": {"$nin": list(keep)},
            },
            {
                "$set": {"status": CANCELLED, "reason": reason, "send_at": None, "updated_at": now},
                "$unset": TERMINAL_UNSET,
            },
        )
        return result.modified_count

    def claim(self, now: datetime, worker: str, lease_s: float) -> dict[str, Any] | None:
        """Take the most overdue pending delivery for `lease_s` seconds, or None."""
        return self.collection.find_one_and_update(
            {"status": {"$in": list(PENDING)}, "send_at": {"$lte": now}},
            {"$set": _claim_fields(now, worker, lease_s), "$inc": {"attempts": 1}},
            sort=[("send_at", 1)],
            return_document=ReturnDocument.AFTER,
        )

    def release(self, deliveries: Sequence[Mapping[str, Any]], now: datetime) -> None:
        """Give back pre-claimed deliveries not attempted (a worker stopping): due again now."""
        if not deliveries:
            return
        self.collection.bulk_write(
            [
                UpdateOne(
                    {"_id": d["_id"], "claim": d["claim"]},
                    {
                        "$set": {"send_at": now, "updated_at": now},
                        "$unset": {"claim": "", "lease_until": ""},
                        "$inc": {"attempts": -1},
                    },
                )
                for d in deliveries
            ],
            ordered=False,
        )

    def open_report(self, report: Mapping[str, Any]) -> bool:
        """Make sure `report` (a failure report) exists and no sender has claimed it yet;
        False if it was claimed already (its notices are taken: use the next period's)."""
        scoped = TenantScoped(self.collection, report["tenant_id"])
        fields = {key: value for key, value in report.items() if key not in ("_id", "tenant_id")}
        try:
            scoped.update_one(
                {"_id": report["_id"], "claimed_by": {"$exists": False}},
                {"$setOnInsert": fields},
                upsert=True,
            )
        except DuplicateKeyError:  # claimed (or done), or inserted this instant by another sender
            found = scoped.find_one({"_id": report["_id"]}, {"claimed_by": 1})
            return found is not None and "claimed_by" not in found
        return True

    def gather_notices(self, report: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Give every waiting notice of the report's inbox to this report (each notice goes to
        one report only), and return all the report's notices, oldest first."""
        scoped = TenantScoped(self.collection, report["tenant_id"])
        inbox = {"recipient_key": report["recipient_key"]}
        scoped.update_many(
            {**inbox, "kind": FAILURE_NOTICE, "status": WAITING, "report": {"$exists": False}},
            {"$set": {"report": report["_id"]}},
        )
        return list(scoped.find({**inbox, "report": report["_id"]}).sort("created_at", 1))

    def finish_notices(self, report: Mapping[str, Any], status: str, now: datetime) -> int:
        """The report's waiting notices take its final status; how many."""
        result = TenantScoped(self.collection, report["tenant_id"]).update_many(
            {
                "recipient_key": report["recipient_key"],
                "report": report["_id"],
                "status": WAITING,
            },
            {"$set": {"status": status, "updated_at": now}},
        )
        return result.modified_count

    def finish(
        self,
        delivery: Mapping[str, Any],
        update: dict[str, Any],
        events: Sequence[outbox.Outgoing] = (),
    ) -> bool:
        """Record an outcome if we still hold the claim; False if the lease was lost."""
        guarded = {"_id": delivery["_id"], "claim": delivery["claim"]}
        merged = outbox.with_events(update, events)
        return self.collection.update_one(guarded, merged).matched_count == 1


def _claim_fields(now: datetime, worker: str, lease_s: float) -> dict[str, Any]:
    lease_until = now + timedelta(seconds=lease_s)
    return {
        "claim": new_id("clm"),
        "claimed_by": worker,
        "lease_until": lease_until,
        "send_at": lease_until,
        "updated_at": now,
    }


def pre_claimed(
    deliveries: Iterable[Mapping[str, Any]],
    ids: Set[str],
    now: datetime,
    worker: str,
    lease_s: float,
) -> list[dict[str, Any]]:
    """New deliveries, those named by `ids` (due now) claimed as they are inserted (as `claim`
    would, in the same write)."""
    return [
        {**d, **_claim_fields(now, worker, lease_s), "attempts": 1} if d["_id"] in ids else dict(d)
        for d in deliveries
    ]


def sent_update(now: datetime, answer: str) -> dict[str, Any]:
    return _terminal(SENT, now, provider_answer=answer[:300], sent_at=now, last_error=None)


def failed_update(now: datetime, reason: str, answer: str | None = None) -> dict[str, Any]:
    return _terminal(FAILED, now, last_error=reason[:300], provider_answer=answer, failed_at=now)


def suppressed_update(now: datetime, reason: str) -> dict[str, Any]:
    return _terminal(SUPPRESSED, now, reason=reason)


def cancelled_update(now: datetime, reason: str) -> dict[str, Any]:
    return _terminal(CANCELLED, now, reason=reason)


def retry_update(
    now: datetime, at: datetime, error: str, answer: str | None = None
) -> dict[str, Any]:
    return {
        "$set": {
            "send_at": at,
            "last_error": error[:300],
            "provider_answer": answer,
            "updated_at": now,
        },
        "$unset": {"claim": "", "lease_until": ""},
    }


def _terminal(status: str, now: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "$set": {"status": status, "send_at": None, "updated_at": now, **fields},
        "$unset": TERMINAL_UNSET,
    }


class DeliveryLog:
    """The delivery log API's reads: one tenant, and only the locations the caller may see."""

    def __init__(
        self, collection: Collection, tenant_id: str, locations: frozenset[str] | None = None
    ) -> None:
        self.scoped = TenantScoped(collection, tenant_id)
        self.locations = locations

    def page(self, filters: Mapping[str, Any], request: PageRequest) -> Page[dict[str, Any]]:
        """Newest first; `filters` by the API's names (`FILTER_FIELDS`)."""
        query: dict[str, Any] = {
            FILTER_FIELDS[name]: value for name, value in filters.items() if name in FILTER_FIELDS
        }
        planned = {op: filters[name] for name, op in PLANNED_RANGE.items() if name in filters}
        if planned:
            query["created_at"] = planned
        return self.scoped.find_page(
            self._visible(query), request, sort=NEWEST_FIRST, projection=HIDDEN
        )

    def get(self, delivery_id: str) -> dict[str, Any] | None:
        return self.scoped.find_one(self._visible({"_id": delivery_id}), HIDDEN)

    def _visible(self, filters: Mapping[str, Any]) -> dict[str, Any]:
        if self.locations is None:
            return dict(filters)
        return {**filters, "location_id": {"$in": sorted(self.locations)}}
