"""The `plans` collection: one document per referral, with its sessions, measurements and outbox.

A plan embeds its sessions (a referral authorizes tens of visits, not thousands), so every
state change of a plan or of one of its sessions is ONE write of one document, carrying its
events (outbox) and, for event handlers, the applied event's key. Writes are guarded by the
document's ``rev`` (optimistic concurrency): a write that lost a race matches nothing, and the
use case reloads and tries again (``shared.retry``).

Every method is scoped to one tenant, except ``due_for_referral_check``: the referral tracker's
cross-tenant work queue (see repository/indexes.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from services.planning.domain.plan_lifecycle import VISIBLE_STATUSES
from services.planning.domain.scheduling import BLOCKING_STATUSES
from shared.events import Event, apply_once, insert_once, outbox
from shared.paging import Page, PageRequest
from shared.tenancy import TenantScoped

COLLECTION = "plans"

LIST_PROJECTION = {"outbox": 0, "applied_events": 0, "history": 0, "intake": 0, "sessions": 0}
NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]
CHART_PROJECTION = {"outbox": 0, "applied_events": 0, "history": 0, "intake": 0}
CHECK_PROJECTION = {"history": 0, "intake": 0, "outbox": 0, "applied_events": 0, "measurements": 0}


def merge_updates(*updates: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """One update document from several (operators merged; a later field wins)."""
    merged: dict[str, dict[str, Any]] = {}
    for update in updates:
        for operator, fields in update.items():
            merged.setdefault(operator, {}).update(fields)
    return merged


class Plans:
    def __init__(self, db: Database, tenant_id: str) -> None:
        self.scoped = TenantScoped(db[COLLECTION], tenant_id)
        self.tenant_id = tenant_id

    # --- reads ---------------------------------------------------------------------------

    def get(self, plan_id: str, projection: Mapping[str, Any] | None = None) -> dict | None:
        return self.scoped.find_one(
            {"_id": plan_id, "status": {"$in": VISIBLE_STATUSES}}, projection
        )

    def by_referral(self, referral_id: str) -> dict | None:
        return self.scoped.find_one({"referral_id": referral_id})

    def page(
        self, filters: Mapping[str, Any], locations: Iterable[str] | None, request: PageRequest
    ) -> Page[dict[str, Any]]:
        """Visible plans matching ``filters`` at ``locations`` (None: all), newest first."""
        query: dict[str, Any] = {"status": {"$in": VISIBLE_STATUSES}, **filters}
        if locations is not None:
            allowed, wanted = set(locations), filters.get("location_id")
            query["location_id"] = {
                "$in": sorted(allowed if wanted is None else allowed & {wanted})
            }
        return self.scoped.find_page(query, request, sort=NEWEST_FIRST, projection=LIST_PROJECTION)

    def of_patient(
        self, patient_id: str, locations: Iterable[str] | None, request: PageRequest
    ) -> Page[dict[str, Any]]:
        """The patient's visible plans with their sessions and measurements, newest first (on
        the index `tenant_patient_created_id`)."""
        query: dict[str, Any] = {"patient_id": patient_id, "status": {"$in": VISIBLE_STATUSES}}
        if locations is not None:
            query["location_id"] = {"$in": sorted(set(locations))}
        return self.scoped.find_page(query, request, sort=NEWEST_FIRST, projection=CHART_PROJECTION)

    def with_sessions_near(
        self, therapist_id: str, room_key: str | None, start: datetime, end: datetime, longest: int
    ) -> list[dict]:
        """Plans with a session of this therapist or room that may overlap [start, end)."""
        window = {"$lt": end, "$gt": start - timedelta(minutes=longest)}
        booked = {"starts_at": window, "status": {"$in": sorted(BLOCKING_STATUSES)}}
        clauses = [{"sessions": {"$elemMatch": {"therapist_id": therapist_id, **booked}}}]
        if room_key is not None:
            clauses.append({"sessions": {"$elemMatch": {"room_key": room_key, **booked}}})
        return list(self.scoped.find({"$or": clauses}, {"sessions": 1}))

    def with_sessions_between(
        self, criteria: Mapping[str, Any], start: datetime, end: datetime
    ) -> list[dict]:
        """Plans with a session matching ``criteria`` (on session fields) that starts in [start, end)
        (a window of at most a month, so all of them: the calendar sorts their sessions)."""
        match = {**criteria, "starts_at": {"$gte": start, "$lt": end}}
        projection = {k: 1 for k in ("referral_id", "patient_id", "location_id", "sessions")}
        return list(self.scoped.find({"sessions": {"$elemMatch": match}}, projection))

    # --- writes --------------------------------------------------------------------------

    def insert(
        self, document: Mapping[str, Any], events: Sequence[outbox.Outgoing], event: Event
    ) -> bool:
        """A new plan and its events in one write; False if the referral has a plan already."""
        now = datetime.now(UTC)
        full = {
            **document,
            "tenant_id": self.tenant_id,
            "rev": 1,
            "created_at": now,
            "updated_at": now,
            **outbox.pending(events, now),
        }
        return insert_once(self.scoped.collection, full, event)

    def save(
        self,
        document: Mapping[str, Any],
        update: Mapping[str, Mapping[str, Any]],
        events: Sequence[outbox.Outgoing] = (),
        event: Event | None = None,
    ) -> bool:
        """Apply ``update`` if nobody changed the plan since it was read (and ``event`` is new)."""
        guarded = {"_id": document["_id"], "tenant_id": self.tenant_id, "rev": document["rev"]}
        stamped = merge_updates(
            update, {"$inc": {"rev": 1}, "$set": {"updated_at": datetime.now(UTC)}}
        )
        full = outbox.with_events(stamped, events)
        if event is not None:
            return apply_once(self.scoped.collection, guarded, full, event)
        return self.scoped.update_one(guarded, full).matched_count == 1


def due_for_referral_check(db: Database, now: datetime, limit: int) -> list[dict]:
    """Plans of every tenant whose referral check is due, the longest due first (the tracker
    then handles each with its own tenant's ``Plans``)."""
    due = {"referral_check_at": {"$lte": now}}
    cursor = db[COLLECTION].find(due, CHECK_PROJECTION).sort("referral_check_at", ASCENDING)
    return list(cursor.limit(limit))
