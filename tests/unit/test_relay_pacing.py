"""When the outbox relay looks at each collection (shared/events/relay.py, `_Pacing`)."""

from shared.events.relay import _Pacing


def test_a_collection_that_found_events_lately_stays_at_the_poll_interval_and_is_looked_at_on_a_wake():
    pacing = _Pacing(["referrals", "partners"], interval_s=0.5, idle_max_s=1.0, warm_for_s=60)
    pacing.looked("referrals", found=1)
    pacing.looked("partners", found=0)
    pacing.looked("referrals", found=0)  # nothing this time, but events a moment ago
    pacing.looked("partners", found=0)
    assert pacing._pause == {"referrals": 0.5, "partners": 1.0}
    assert pacing.due(["referrals", "partners"], woken=True) == ["referrals"]


def test_without_events_lately_a_collection_backs_off_to_the_longest_pause():
    pacing = _Pacing(["referrals"], interval_s=0.5, idle_max_s=1.0, warm_for_s=0)
    pacing.looked("referrals", found=1)
    pacing.looked("referrals", found=0)
    assert pacing._pause["referrals"] == 1.0
    pacing.looked("referrals", found=0)
    assert pacing._pause["referrals"] == 1.0  # at most the idle maximum


def test_a_wake_in_a_quiet_system_looks_at_every_collection():
    pacing = _Pacing(["a", "b"], interval_s=0.5, idle_max_s=4.0, warm_for_s=0)
    pacing.looked("a", found=0)
    pacing.looked("b", found=0)
    assert pacing.due(["a", "b"], woken=True) == ["a", "b"]
    assert pacing.due(["a", "b"], woken=False) == []
