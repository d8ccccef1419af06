"""The benchmark's fair method, as pure rules: which hops do work, what counts as a change of
stored state, and the latency of each stage (tools/bench/hops.py, state.py, figures.py)."""

from __future__ import annotations

import pytest

from tools.bench.figures import stage_latency_figures
from tools.bench.hops import ack_only, split_hops
from tools.bench.scale import saturation_rate, stage_figures, worst_p99
from tools.bench.state import SUPPRESSED_AT_ONCE, changes


@pytest.mark.parametrize(
    ("queue", "event_type", "only_acked"),
    [
        ("notifications.inbox", "referral.accepted", False),  # deliveries planned
        ("notifications.inbox", "patient.registered", False),  # the contact directory
        ("notifications.inbox", "access.principal_upserted", False),  # a replica
        ("notifications.inbox", "plan.drafted", True),  # nobody consumes it: never bound so
        ("notifications.outcomes", "notification.sent", True),  # the queue of an earlier version
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


def scale_step(rate: float, worst_p99: float, welcomed: bool = True) -> dict:
    return {"rate_per_s": rate, "worst_p99_s": worst_p99, "all_welcomed": welcomed}


@pytest.mark.parametrize(
    ("steps", "rate"),
    [
        ([scale_step(2, 0.4), scale_step(4, 0.9), scale_step(6, 1.4)], 4),
        ([scale_step(2, 0.4), scale_step(4, 1.0)], 4),  # at the limit still counts
        ([scale_step(2, 1.2)], None),  # not even the lowest rate
        ([scale_step(2, 0.4), scale_step(4, 0.5, welcomed=False)], 2),  # emails left behind
        ([scale_step(2, 0.4), scale_step(4, 1.5), scale_step(6, 0.8)], 2),  # the first past it
    ],
)
def test_the_saturation_rate_is_the_last_rate_within_the_p99_limit_before_the_first_past_it(
    steps, rate
):
    assert saturation_rate(steps) == rate


def test_the_worst_p99_is_that_of_the_slowest_stage():
    figures = stage_figures({"welcome_email": [0.1, 0.2, 0.9], "status_to_partner": [0.05]})
    assert figures["welcome_email"]["p99"] == 0.9
    assert worst_p99(figures) == 0.9
