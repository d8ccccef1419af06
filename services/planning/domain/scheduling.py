"""Sessions: local time to UTC, double booking, referral authorization, session states.

Sessions are stored in UTC; staff enter local wall-clock times of the location's IANA zone.
A local time that does not exist (clocks spring forward) or exists twice (clocks fall back)
is refused rather than guessed, so nobody is booked an hour off.

Visits counted against a referral's authorization: scheduled and completed sessions.
Cancelled sessions do not count, and neither do no-shows: no treatment was delivered and
none can be billed, so the visit stays available (``COUNTED_STATUSES`` holds this choice).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.planning.domain.plan_lifecycle import transition

SESSION_TRANSITIONS: dict[str, frozenset[str]] = {
    "scheduled": frozenset({"completed", "cancelled", "no_show"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
    "no_show": frozenset(),
}
LONGEST_SESSION_MINUTES = 240  # the API refuses longer; bounds the overlap query's index range
COUNTED_STATUSES = frozenset({"scheduled", "completed"})
BLOCKING_STATUSES = frozenset({"scheduled", "completed", "no_show"})  # all but cancelled


class LocalTimeError(ValueError):
    """A local time that cannot be turned into one UTC instant; the message says why."""


def zone(iana_tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(iana_tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise LocalTimeError(f"unknown time zone {iana_tz!r}") from error


def zone_or_utc(iana_tz: str | None) -> tzinfo:
    """A location's zone for its local dates: UTC when it has none, or one this host does not know."""
    try:
        return zone(iana_tz or "UTC")
    except LocalTimeError:
        return UTC


def to_utc(local: datetime, iana_tz: str) -> datetime:
    """The UTC instant of a naive local wall-clock time in ``iana_tz``."""
    if local.tzinfo is not None:
        raise LocalTimeError(f"expected a local time without a time zone, got {local}")
    tz = zone(iana_tz)
    first, second = local.replace(tzinfo=tz, fold=0), local.replace(tzinfo=tz, fold=1)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != local:
        raise LocalTimeError(
            f"{local:%Y-%m-%d %H:%M} does not exist in {iana_tz} "
            "(the clocks skip it when daylight saving time starts); choose another time"
        )
    if first.utcoffset() != second.utcoffset():
        raise LocalTimeError(
            f"{local:%Y-%m-%d %H:%M} happens twice in {iana_tz} "
            "(the clocks repeat it when daylight saving time ends); choose another time"
        )
    return first.astimezone(UTC)


@dataclass(frozen=True)
class Session:
    session_id: str
    therapist_id: str
    room_id: str | None  # None: no room is booked (e.g. a home visit)
    start: datetime  # timezone-aware
    duration_minutes: int
    status: str = "scheduled"

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("session start must be timezone-aware")
        if self.duration_minutes < 1:
            raise ValueError("session duration must be at least 1 minute")

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.duration_minutes)

    def overlaps(self, other: "Session") -> bool:
        """Half-open intervals [start, end): back-to-back sessions do not overlap."""
        return self.start < other.end and other.start < self.end


def room_problem(
    room_ids: Sequence[str] | None, room_id: str | None, location_name: str
) -> str | None:
    """Why a session may not take place in `room_id` at a location with these rooms (None: it
    may; also when the location's rooms are not known here, from an event before rooms)."""
    if room_id is None or room_ids is None or room_id in room_ids:
        return None
    if not room_ids:
        return f"{location_name} has no rooms: book the session without one"
    return f"{location_name} has no room {room_id!r}; its rooms: {', '.join(room_ids)}"


def find_conflicts(new_session: Session, existing_sessions: Iterable[Session]) -> list[str]:
    """Double bookings of the new session's therapist or room; empty when it can be booked."""
    if new_session.status not in BLOCKING_STATUSES:
        return []
    return [
        conflict
        for other in existing_sessions
        if other.session_id != new_session.session_id
        and other.status in BLOCKING_STATUSES
        and new_session.overlaps(other)
        for conflict in _double_bookings(new_session, other)
    ]


def _double_bookings(new_session: Session, other: Session) -> list[str]:
    when = f"{other.start:%Y-%m-%d %H:%M}-{other.end:%H:%M} UTC (session {other.session_id})"
    conflicts = []
    if other.therapist_id == new_session.therapist_id:
        conflicts.append(f"therapist {other.therapist_id} is already booked {when}")
    if new_session.room_id is not None and other.room_id == new_session.room_id:
        conflicts.append(f"room {other.room_id} is already booked {when}")
    return conflicts


def counted_visits(statuses: Iterable[str]) -> int:
    """Sessions that use up an authorized visit (see COUNTED_STATUSES)."""
    return sum(1 for status in statuses if status in COUNTED_STATUSES)


def referral_ends_at(expires_on: date, iana_tz: str) -> datetime:
    """The instant a referral stops covering sessions: the end of its last day, locally."""
    next_midnight = datetime.combine(expires_on + timedelta(days=1), time(), tzinfo=zone(iana_tz))
    return next_midnight.astimezone(UTC)


def check_authorization(
    scheduled_count: int,
    authorized_visits: int,
    session_start: datetime,
    expires_on: date,
    iana_tz: str,
) -> list[str]:
    """Why one more session may not be booked; empty when the referral covers it.

    ``scheduled_count`` is ``counted_visits`` of the plan's other sessions.
    """
    problems = []
    if scheduled_count >= authorized_visits:
        problems.append(f"all {authorized_visits} authorized visits are already scheduled or used")
    if session_start >= referral_ends_at(expires_on, iana_tz):
        problems.append(
            f"the session is after the referral expires ({expires_on.isoformat()}, "
            f"end of day in {iana_tz})"
        )
    return problems


def session_transition(current: str, target: str) -> str:
    """Return ``target`` if a session may go there from ``current``, else InvalidTransition."""
    return transition(current, target, SESSION_TRANSITIONS, kind="session")
