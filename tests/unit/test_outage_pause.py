"""The one pause of every looping component through an outage (shared.outages.pause_s)."""

from __future__ import annotations

from shared import outages


def test_the_pause_doubles_from_half_a_second_and_stops_growing_at_three():
    assert [outages.pause_s(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
