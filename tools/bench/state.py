"""State changes, counted from the services' documents (what the domain recorded, not the writes).

| service | state changes |
| --- | --- |
| intake | patients, referrals and intakes: each document's `version` (1 when created, +1 per change) |
| planning | plans: each document's `rev` (1 when created, +1 per change) |
| notifications | a delivery planned; its outcome recorded by the sender; a contact entry created |

The benchmark takes the difference between two snapshots.
"""

from __future__ import annotations

from typing import Any

FINAL = ["sent", "failed", "suppressed", "cancelled"]


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
        },
    }


def changes(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> dict[str, Any]:
    detail = {
        service: {name: after[service][name] - before[service][name] for name in after[service]}
        for service in after
    }
    totals = {service: sum(items.values()) for service, items in detail.items()}
    return {**totals, "total": sum(totals.values()), "detail": detail}
