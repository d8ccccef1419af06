"""State changes, counted from the services' documents (what the domain recorded, not the writes).

| service | state changes |
| --- | --- |
| intake | patients, referrals and intakes: each document's `version` (1 when created, +1 per change) |
| planning | plans: each document's `rev` (1 when created, +1 per change) |
| notifications | a delivery planned; its outcome recorded by the sender; a contact entry created |

The benchmark takes the difference between two snapshots. A delivery suppressed as it is planned
(no consent for the channel, no partner webhook) is stored, but it records that nothing is to
happen: the fair count (`total`) leaves it out, the old method (`total_old_method`) counted it.
"""

from __future__ import annotations

from typing import Any

FINAL = ["sent", "failed", "suppressed", "cancelled"]
SUPPRESSED_AT_ONCE = "deliveries suppressed at once"
NOT_CHANGES = {("notifications", SUPPRESSED_AT_ONCE)}
"""Counted in the snapshot, part of `deliveries planned`, subtracted from the fair total."""


def _sum(collection: Any, field: str) -> int:
    return sum(int(d.get(field) or 0) for d in collection.find({}, {field: 1}))


def snapshot(db_of: Any) -> dict[str, dict[str, int]]:
    """`db_of(service)` gives that service's database."""
    intake, planning, notifications = (db_of(s) for s in ("intake", "planning", "notifications"))
    deliveries = notifications.deliveries
    return {
        "intake": {
            "patient versions": _sum(intake.patients, "version"),
            "referral versions": _sum(intake.referrals, "version"),
            "intake versions": _sum(intake.intakes, "version"),
        },
        "planning": {"plan revisions": _sum(planning.plans, "rev")},
        "notifications": {
            "deliveries planned": deliveries.count_documents({}),
            "delivery outcomes": deliveries.count_documents(
                {"status": {"$in": FINAL}, "attempts": {"$gte": 1}}
            ),
            "contacts created": notifications.contacts.count_documents({}),
            SUPPRESSED_AT_ONCE: deliveries.count_documents(
                {"status": "suppressed", "attempts": {"$in": [0, None]}}
            ),
        },
    }


def changes(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> dict[str, Any]:
    detail = {
        service: {name: after[service][name] - before[service][name] for name in after[service]}
        for service in after
    }
    old = {
        service: sum(n for name, n in items.items() if name != SUPPRESSED_AT_ONCE)
        for service, items in detail.items()
    }
    fair = {
        service: old[service]
        - sum(n for name, n in items.items() if (service, name) in NOT_CHANGES)
        for service, items in detail.items()
    }
    return {
        **fair,
        "total": sum(fair.values()),
        "total_old_method": sum(old.values()),
        "detail": detail,
    }
