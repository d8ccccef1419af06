"""The benchmark's fair method, as pure rules: which hops do work, what counts as a change of
stored state, and the latency of each stage (tools/bench/hops.py, state.py, figures.py)."""

from __future__ import annotations

import pytest

from tools.bench.figures import stage_latency_figures
from tools.bench.hops import ack_only, split_hops
from tools.bench.state import SUPPRESSED_AT_ONCE, changes


@pytest.mark.parametrize(
    ("queue", "event_type", "only_acked"),
    [
        ("notifications.inbox", "referral.accepted", False),  # deliveries planned
        ("notifications.inbox", "patient.registered", False),  # the contact directory
        ("notifications.inbox", "access.principal_upserted", False),  # a replica
        ("notifications.inbox", "plan.drafted", True),  # bound so it is never unroutable
        ("notifications.outcomes", "notification.sent", True),
        ("planning.intake-events", "intake.completed", False),
    ],
)
def test_a_hop_is_ack_only_when_its_consumer_does_nothing_with_it(queue, event_type, only_acked):
    assert ack_only(queue, event_type) is only_acked


def test_hops_are_split_into_working_and_ack_only():
    handled = {
        ("planning.intake-events", "intake.completed"): 60.0,
        ("notifications.inbox", "plan.drafted"): 60.0,
        ("notifications.outcomes", "notification.sent"): 180.0,
    }
    assert split_hops(handled) == {"working": 60.0, "ack_only": 240.0}


def snapshot(suppressed: int, planned: int) -> dict[str, dict[str, int]]:
    return {
        "intake": {"patient versions": planned and 1},
        "notifications": {
            "deliveries planned": planned,
            "delivery outcomes": 0,
            "contacts created": 0,
            SUPPRESSED_AT_ONCE: suppressed,
        },
    }


def test_a_delivery_suppressed_at_once_is_not_a_change_of_state_the_fair_way():
    counted = changes(snapshot(0, 0), snapshot(2, 5))
    assert counted["total_old_method"] == 1 + 5
    assert counted["total"] == 1 + 3
    assert counted["notifications"] == 3


def test_each_stage_has_its_percentiles():
    figures = stage_latency_figures({"welcome_email": [0.1, 0.2, 0.3, 0.4], "empty": []}, 2.0)
    assert set(figures) == {"rate_per_s", "welcome_email"}
    welcome = figures["welcome_email"]
    assert (welcome["p50"], welcome["p99"], welcome["max"], welcome["referrals"]) == (
        0.2,
        0.4,
        0.4,
        4,
    )
