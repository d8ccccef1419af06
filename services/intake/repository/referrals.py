"""Referrals: one per (tenant, partner, partner's referral id); and what an intake link opens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.database import Database

from services.intake.repository.indexes import REFERRALS
from services.intake.repository.patient_data import PatientData
from shared.events import outbox
from shared.events.outbox import Outgoing


class Referrals(PatientData):
    collection_name = REFERRALS
    order = [("received_at", -1), ("_id", -1)]  # newest first: the staff's inbox

    def by_partner_reference(self, partner_id: str | None, partner_referral_id: str) -> dict | None:
        return self.scoped.find_one(
            {"partner_id": partner_id, "partner_referral_id": partner_referral_id}
        )

    def get_full(self, referral_id: str) -> dict[str, Any] | None:
        """With the bookkeeping fields (applied events), for the use cases that update it."""
        return self.scoped.find_one({"_id": referral_id}, {"outbox": 0})

    def add_milestone(
        self, referral: Mapping[str, Any], milestone: Mapping[str, Any], events: Sequence[Outgoing]
    ) -> bool:
        """Append a milestone of care with its status events, in one write guarded by what was
        read (the version and the milestones so far): False when either moved on meanwhile.

        The guard makes every status event's snapshot (a FHIR Task holds them all) include
        every milestone before it, and makes a repeat of the same planning event lose.
        """
        seen = len(referral.get("milestones") or [])
        guard = {"milestones": {"$size": seen}} if seen else {"milestones": {"$exists": False}}
        where = {"_id": referral["_id"], "version": referral["version"], **guard}
        update = outbox.with_events({"$push": {"milestones": dict(milestone)}}, events)
        return self.update(where, update)


def opened_by_link(db: Database, referral_id: str) -> dict[str, Any] | None:
    """The referral an intake link names: its tenant, link nonce and status, nothing else.

    The one read of intake without a tenant: the signed link is the credential and carries only
    the referral's id (`domain/intake_link.py`); what it opens is then read within the tenant.
    """
    return db[REFERRALS].find_one(
        {"_id": referral_id}, {"tenant_id": 1, "intake_link_nonce": 1, "status": 1}
    )
