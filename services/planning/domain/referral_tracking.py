"""Referral usage and the alerts to send once as visits or days run out.

``used`` is the number of visits counted against the authorization (``scheduling.
counted_visits``: scheduled and completed sessions), so "2 visits remain" arrives while there
is time to ask the prescriber for more. A referral is valid through ``expires_on``; it is
expired from the next day.

Each alert has a key ("visits_remaining:2", "days_remaining:14", "visits_exhausted",
"expired"). The caller stores the keys it sent and passes them back as ``already_sent``.
Within one kind only the most urgent threshold crossed is sent, and it silences the less
urgent ones: a referral that jumps from 5 visits left to 1 gets one alert, not two.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

TRACKED_STATUSES = ("held", "draft", "active")
"""Plans whose referral alerts are tracked (a closed or blocked plan needs none)."""


@dataclass(frozen=True)
class AlertThresholds:
    visits_remaining: tuple[int, ...] = (2,)
    days_remaining: tuple[int, ...] = (14,)

    def __post_init__(self) -> None:
        if any(t < 0 for t in (*self.visits_remaining, *self.days_remaining)):
            raise ValueError("alert thresholds must not be negative")


DEFAULT_THRESHOLDS = AlertThresholds()


@dataclass(frozen=True)
class CheckContext:
    """What a referral check needs besides the plan: its location's zone, its clinic's thresholds."""

    timezone: tzinfo
    thresholds: AlertThresholds

    def today(self, now: datetime) -> date:
        return now.astimezone(self.timezone).date()


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str  # "visits_remaining" | "visits_exhausted" | "days_remaining" | "expired"
    visits_remaining: int
    days_remaining: int  # negative once expired
    message: str


def visits_remaining(used: int, authorized: int) -> int:
    return max(authorized - used, 0)


def days_remaining(today: date, expires_on: date) -> int:
    """Days left after today; 0 on the expiry day (still valid), negative once expired."""
    return (expires_on - today).days


def _tightest_crossed(remaining: int, thresholds: tuple[int, ...]) -> int | None:
    crossed = [t for t in thresholds if remaining <= t]
    return min(crossed) if crossed else None


def _silenced(kind: str, threshold: int, already_sent: set[str]) -> bool:
    """Sent already, or a more urgent threshold of the same kind was."""
    sent = {int(k.split(":")[1]) for k in already_sent if k.startswith(f"{kind}:")}
    return any(t <= threshold for t in sent)


def _visit_alert(remaining: int, thresholds: AlertThresholds, sent: set[str]) -> str | None:
    if remaining == 0:
        return "visits_exhausted"
    threshold = _tightest_crossed(remaining, thresholds.visits_remaining)
    if threshold is None or _silenced("visits_remaining", threshold, sent):
        return None
    return f"visits_remaining:{threshold}"


def _date_alert(days: int, thresholds: AlertThresholds, sent: set[str]) -> str | None:
    if days < 0:
        return "expired"
    threshold = _tightest_crossed(days, thresholds.days_remaining)
    if threshold is None or _silenced("days_remaining", threshold, sent):
        return None
    return f"days_remaining:{threshold}"


MESSAGES = {
    "visits_remaining": "{visits} of {authorized} authorized visits remain",
    "visits_exhausted": "all {authorized} authorized visits are used",
    "days_remaining": "the referral expires in {days} days, on {expires_on}",
    "expired": "the referral expired: its last valid day was {expires_on}",
}


def referral_alerts(
    used: int,
    authorized: int,
    today: date,
    expires_on: date,
    already_sent: set[str],
    thresholds: AlertThresholds = DEFAULT_THRESHOLDS,
) -> list[Alert]:
    """Alerts due now and not yet sent; emit each and add its key to ``already_sent``."""
    visits, days = visits_remaining(used, authorized), days_remaining(today, expires_on)
    keys = (
        _visit_alert(visits, thresholds, already_sent),
        _date_alert(days, thresholds, already_sent),
    )
    facts = {"visits": visits, "authorized": authorized, "days": days, "expires_on": expires_on}
    return [_alert(key, facts) for key in keys if key is not None and key not in already_sent]


def _alert(key: str, facts: dict[str, Any]) -> Alert:
    kind = key.split(":")[0]
    message = MESSAGES[kind].format(**facts)
    return Alert(key, kind, facts["visits"], facts["days"], message)


def next_check_on(
    today: date,
    expires_on: date,
    already_sent: set[str],
    thresholds: AlertThresholds = DEFAULT_THRESHOLDS,
) -> date | None:
    """The next day a date alert may fall due (a days threshold reached, or the expiry);
    None once the expiry alert was sent. Visit alerts come with bookings, not with days."""
    if "expired" in already_sent:
        return None
    days = [expires_on - timedelta(days=t) for t in thresholds.days_remaining]
    return min(d for d in (*days, expires_on + timedelta(days=1)) if d > today)
