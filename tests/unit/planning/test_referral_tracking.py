from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.planning.domain.referral_tracking import (
    AlertThresholds,
    days_remaining,
    next_check_on,
    referral_alerts,
    visits_remaining,
)

EXPIRES_ON = date(2025, 6, 30)
FAR_FROM_EXPIRY = EXPIRES_ON - timedelta(days=60)


def alert_keys(used, authorized=10, today=FAR_FROM_EXPIRY, sent=(), thresholds=None):
    kwargs = {} if thresholds is None else {"thresholds": thresholds}
    alerts = referral_alerts(used, authorized, today, EXPIRES_ON, set(sent), **kwargs)
    return [alert.key for alert in alerts]


@pytest.mark.parametrize(
    ("used", "authorized", "remaining"), [(0, 10, 10), (8, 10, 2), (10, 10, 0), (12, 10, 0)]
)
def test_visits_remaining_are_authorized_minus_used_and_never_negative(used, authorized, remaining):
    assert visits_remaining(used, authorized) == remaining


@pytest.mark.parametrize(
    ("today", "days"),
    [(date(2025, 6, 16), 14), (date(2025, 6, 30), 0), (date(2025, 7, 1), -1)],
)
def test_days_remaining_count_after_today_and_turn_negative_once_expired(today, days):
    assert days_remaining(today, EXPIRES_ON) == days


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        (7, []),
        (8, ["visits_remaining:2"]),
        (9, ["visits_remaining:2"]),
        (10, ["visits_exhausted"]),
    ],
)
def test_visit_alerts_start_when_two_visits_remain_and_when_none_do(used, expected):
    assert alert_keys(used) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 6, 15), []),
        (date(2025, 6, 16), ["days_remaining:14"]),
        (date(2025, 6, 30), ["days_remaining:14"]),  # the expiry day is still valid
        (date(2025, 7, 1), ["expired"]),
    ],
)
def test_date_alerts_start_fourteen_days_before_expiry_and_once_expired(today, expected):
    assert alert_keys(0, today=today) == expected


def test_an_alert_already_sent_is_not_returned_again():
    assert alert_keys(9, sent={"visits_remaining:2"}) == []
    assert alert_keys(10, sent={"visits_exhausted"}) == []
    assert alert_keys(0, today=date(2025, 7, 2), sent={"expired"}) == []


def test_exhaustion_and_expiry_are_alerted_even_after_the_warnings():
    sent = {"visits_remaining:2", "days_remaining:14"}

    assert alert_keys(10, today=date(2025, 7, 1), sent=sent) == ["visits_exhausted", "expired"]


def test_visit_and_date_alerts_come_together_when_both_are_due():
    alerts = referral_alerts(8, 10, date(2025, 6, 20), EXPIRES_ON, set())

    assert [(a.kind, a.visits_remaining, a.days_remaining) for a in alerts] == [
        ("visits_remaining", 2, 10),
        ("days_remaining", 2, 10),
    ]
    assert alerts[0].message == "2 of 10 authorized visits remain"
    assert alerts[1].message == "the referral expires in 10 days, on 2025-06-30"


@pytest.mark.parametrize(
    ("used", "sent", "expected"),
    [
        (5, set(), ["visits_remaining:5"]),
        (8, {"visits_remaining:5"}, ["visits_remaining:2"]),
        (9, set(), ["visits_remaining:2"]),  # jumped past 5: only the most urgent
        (6, {"visits_remaining:2"}, []),  # a more urgent alert already went out
    ],
)
def test_with_several_thresholds_only_the_most_urgent_unsent_one_is_returned(used, sent, expected):
    thresholds = AlertThresholds(visits_remaining=(5, 2), days_remaining=())

    assert alert_keys(used, sent=sent, thresholds=thresholds) == expected


def test_day_thresholds_are_configurable():
    thresholds = AlertThresholds(visits_remaining=(), days_remaining=(30, 7))

    assert alert_keys(9, today=date(2025, 6, 1), thresholds=thresholds) == ["days_remaining:30"]
    assert alert_keys(9, today=date(2025, 6, 25), thresholds=thresholds) == ["days_remaining:7"]


def test_negative_thresholds_are_refused():
    with pytest.raises(ValueError, match="negative"):
        AlertThresholds(visits_remaining=(-1,))


@given(steps=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10)), min_size=1, max_size=40))
def test_each_alert_is_emitted_at_most_once_over_the_life_of_a_referral(steps):
    used, today, sent, emitted = 0, date(2025, 5, 1), set(), []
    for more_visits, more_days in steps:
        used, today = used + more_visits, today + timedelta(days=more_days)
        for alert in referral_alerts(used, 12, today, EXPIRES_ON, sent):
            emitted.append(alert.key)
            sent.add(alert.key)

    assert len(emitted) == len(set(emitted))
    known = {"visits_remaining:2", "visits_exhausted", "days_remaining:14", "expired"}
    assert set(emitted) <= known


@pytest.mark.parametrize(
    ("today", "sent", "expected"),
    [
        (EXPIRES_ON - timedelta(days=60), set(), EXPIRES_ON - timedelta(days=14)),
        (EXPIRES_ON - timedelta(days=14), {"days_remaining:14"}, EXPIRES_ON + timedelta(days=1)),
        (EXPIRES_ON, {"days_remaining:14"}, EXPIRES_ON + timedelta(days=1)),
        (EXPIRES_ON + timedelta(days=1), {"days_remaining:14", "expired"}, None),
    ],
)
def test_the_next_check_is_the_day_a_date_alert_falls_due(today, sent, expected):
    assert next_check_on(today, EXPIRES_ON, sent) == expected


@given(st.integers(min_value=-400, max_value=400), st.lists(st.integers(0, 90), max_size=4))
def test_a_date_alert_is_never_due_between_today_and_the_next_check(offset, days):
    thresholds = AlertThresholds(days_remaining=tuple(days))
    today = EXPIRES_ON + timedelta(days=offset)
    sent = {a.key for a in referral_alerts(0, 10, today, EXPIRES_ON, set(), thresholds)}
    check_on = next_check_on(today, EXPIRES_ON, sent, thresholds)
    if check_on is None:
        assert "expired" in sent
        return
    assert check_on > today
    for day in range((check_on - today).days - 1):
        between = today + timedelta(days=day + 1)
        assert not referral_alerts(0, 10, between, EXPIRES_ON, set(sent), thresholds)
