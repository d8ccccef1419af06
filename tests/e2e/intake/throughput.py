"""Measures the intake worker on the local stack: referrals/s accepted over AMQP, and MongoDB
commands per accepted referral (the worker's `mongo_commands_total`, read before and after).

The worker's outbox relay polls every collection while idle; that polling is measured on its own
first (commands/s while idle) and reported next to the totals, so the cost per referral can be
read with and without it.
"""

from __future__ import annotations

import time
from typing import Any

from testkit.metrics import mongo_commands
from testkit.partner import PartnerSystem
from testkit.referrals import distinct_referral
from testkit.waiting import wait_until

WRITES = ("insert", "update", "delete", "findAndModify")


def measure(
    partner: PartnerSystem, tenant_id: str, metrics_url: str, count: int, idle_s: float = 3.0
) -> dict[str, Any]:
    idle_before = mongo_commands(metrics_url)
    time.sleep(idle_s)  # measuring the idle polling rate itself, not waiting for an event
    idle = mongo_commands(metrics_url) - idle_before
    idle_per_s = sum(idle.values()) / idle_s

    before = mongo_commands(metrics_url)
    started = time.perf_counter()
    for n in range(count):
        partner.refer(tenant_id, distinct_referral(n))
    wait_until(
        lambda: len([s for s in partner.statuses() if s["type"] == "referral.accepted"]) >= count,
        timeout=120,
        interval=0.2,
        message=f"{count} acceptances",
    )
    elapsed = time.perf_counter() - started
    spent = mongo_commands(metrics_url) - before
    total = sum(spent.values())
    return {
        "referrals": count,
        "seconds": round(elapsed, 2),
        "referrals_per_s": round(count / elapsed, 1),
        "mongo_commands_per_referral": round(total / count, 2),
        "mongo_writes_per_referral": round(sum(spent[k] for k in WRITES) / count, 2),
        "by_command_per_referral": {k: round(v / count, 2) for k, v in sorted(spent.items())},
        "idle_polling_commands_per_s": round(idle_per_s, 1),
        "mongo_commands_per_referral_without_idle_polling": round(
            max(total - idle_per_s * elapsed, 0) / count, 2
        ),
    }
