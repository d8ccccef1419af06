"""What guards sign-in against guessing: failures per clinic and email (lockout), and requests
per client address and minute (rate limit). Both expire by TTL indexes; neither is read for
anything else.

Failures are kept by a hash of (tenant, email), whether an account has that email or not, so
an unknown email and a wrong password cost the same and answer the same.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from services.intake.domain.lockout import LOCK, MAX_FAILURES, WINDOW
from services.intake.domain.rate_limit import window_end, window_start
from services.intake.repository.indexes import RATE_LIMITS, SIGN_IN_FAILURES
from shared.tenancy import TenantScoped


class SignInFailures:
    def __init__(self, db: Database, tenant_id: str) -> None:
        self.scoped = TenantScoped(db[SIGN_IN_FAILURES], tenant_id)
        self.tenant_id = tenant_id

    def _key(self, email: str) -> str:
        return hashlib.sha256(f"{self.tenant_id}\x1f{email}".encode()).hexdigest()

    def get(self, email: str) -> dict[str, Any]:
        return self.scoped.find_one({"_id": self._key(email)}) or {}

    def add(self, email: str, now: datetime) -> dict[str, Any]:
        """Record a failure (atomically; the latest `MAX_FAILURES` are kept) and answer the
        record after it."""
        update = {
            "$push": {"failures": {"$each": [now], "$slice": -MAX_FAILURES}},
            "$set": {"expires_at": now + WINDOW + LOCK},
        }
        for attempt in range(2):  # a first upsert racing another one meets the unique _id
            try:
                return (
                    self.scoped.find_one_and_update(
                        {"_id": self._key(email)},
                        update,
                        upsert=True,
                        return_document=ReturnDocument.AFTER,
                    )
                    or {}
                )
            except DuplicateKeyError:
                if attempt:
                    raise
        return {}

    def lock(self, email: str, until: datetime) -> None:
        """Lock the account until `until`; the failures start again from none."""
        self.scoped.update_one(
            {"_id": self._key(email)},
            {"$set": {"locked_until": until, "failures": [], "expires_at": until + WINDOW}},
        )

    def clear(self, email: str) -> None:
        self.scoped.update_one(
            {"_id": self._key(email)}, {"$set": {"failures": [], "locked_until": None}}
        )


class RateLimits:
    """Requests per client address per window (not tenant data: an address tries any clinic)."""

    def __init__(self, db: Database) -> None:
        self.collection = db[RATE_LIMITS]

    def hit(self, address: str, now: datetime) -> int:
        """Count one request of `address` in the current window; the count so far."""
        start = window_start(now)
        key = f"{int(start.timestamp())}:{address}"
        update = {
            "$inc": {"count": 1},
            "$setOnInsert": {"expires_at": window_end(now) + timedelta(minutes=1)},
        }
        for attempt in range(2):
            try:
                found = self.collection.find_one_and_update(
                    {"_id": key}, update, upsert=True, return_document=ReturnDocument.AFTER
                )
                return int((found or {}).get("count", 1))
            except DuplicateKeyError:
                if attempt:
                    raise
        return 1
