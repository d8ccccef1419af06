"""A short lease on a tenant's schedule: booking checks and the booking write happen under it.

Why: a unique index cannot refuse overlapping intervals, and the overlap check (a query) and the
write of the new session are two steps; two requests booking the same therapist or room at the
same time would both pass the check. So every change that occupies time (schedule, reschedule)
takes the tenant's lease first: one guarded upsert on ``booking_leases/<tenant_id>`` that only
succeeds when the lease is free or expired. It is released (guarded by the holder's token)
right after the write. Bookings are made at human pace, so serialising them per clinic costs
nothing noticeable; a waiting request retries for up to ``wait_s`` and then answers 409
"busy, retry" (``ConcurrentChange``). A process that dies holding the lease blocks bookings of that tenant for at most
``ttl_s`` (longer than any request may run: gunicorn's timeout is 30 s).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared.errors import ConcurrentChange
from shared.ids import new_id
from shared.tenancy import TenantScoped

COLLECTION = "booking_leases"
TTL_S = 35.0
WAIT_S = 3.0


@contextmanager
def booking_lease(
    db: Database, tenant_id: str, *, ttl_s: float = TTL_S, wait_s: float = WAIT_S
) -> Iterator[None]:
    leases = TenantScoped(db[COLLECTION], tenant_id)
    token = new_id("lease")
    deadline = time.monotonic() + wait_s
    while not _acquire(leases, token, ttl_s):
        if time.monotonic() >= deadline:
            raise ConcurrentChange(
                "the schedule is being changed by another request; retry in a moment"
            )
        time.sleep(random.uniform(0.01, 0.05))  # a short jittered pause before asking again
    try:
        yield
    finally:
        leases.update_one({"_id": tenant_id, "holder": token}, {"$set": {"holder": None}})


def _acquire(leases: TenantScoped, token: str, ttl_s: float) -> bool:
    """Take the lease if it is free or expired (an upsert; the filter's tenant_id goes in)."""
    now = datetime.now(UTC)
    free = {"_id": leases.tenant_id, "$or": [{"holder": None}, {"held_until": {"$lte": now}}]}
    held = {"$set": {"holder": token, "held_until": now + timedelta(seconds=ttl_s)}}
    try:
        leases.update_one(free, held, upsert=True)
    except DuplicateKeyError:  # the lease exists and is held by someone else
        return False
    return True
