"""Page 8's rules: which window of time a day or week view asks planning for, and the grid that
shows it (hours down the side; therapists or rooms across a day, the seven days across a week),
each session in the cell of its local starting hour, and a refused booking's reasons in the
cell it was asked for (a clash is said next to its slot).

Times are the location's: a day is midnight to midnight there, whatever the person's own zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from services.console.domain.times import parse_instant

View = Literal["day", "week"]
By = Literal["therapist", "room"]
VIEWS: tuple[View, ...] = ("day", "week")
FIRST_HOUR, LAST_HOUR = 7, 20  # the hours always shown; a session outside them adds its hour
NO_ROOM = ""
STATUS_LABELS = {
    "scheduled": "Booked",
    "completed": "Done",
    "cancelled": "Cancelled",
    "no_show": "No-show",
}


@dataclass(frozen=True)
class Window:
    """What a view shows: its first day, its days, and the UTC instants planning is asked for."""

    view: View
    first_day: date
    days: tuple[date, ...]
    start: datetime
    end: datetime

    @property
    def previous(self) -> date:
        return self.first_day - timedelta(days=len(self.days))

    @property
    def next(self) -> date:
        return self.first_day + timedelta(days=len(self.days))


def window(view: View, day: date, zone: ZoneInfo) -> Window:
    """The day itself, or the week (Monday to Sunday) holding it, from local midnight to local
    midnight (a day of a clock change is 23 or 25 hours long)."""
    first = day if view == "day" else day - timedelta(days=day.weekday())
    days = tuple(first + timedelta(days=n) for n in range(1 if view == "day" else 7))
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(days[-1] + timedelta(days=1), time(0), zone)
    return Window(
        view, first, days, start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))
    )


@dataclass(frozen=True)
class Slot:
    """One session as its cell shows it."""

    session_id: str
    plan_id: str
    starts: str  # "10:00"
    ends: str
    patient: str
    therapist: str
    room: str
    status: str
    status_label: str
    patient_id: str = ""


@dataclass(frozen=True)
class Clash:
    """A booking the API refused, in the cell it asked for: what was asked and why not."""

    asked: str  # "Tue 9 Dec 10:00 with Sam Ortiz"
    reasons: tuple[str, ...]


@dataclass
class Cell:
    slots: list[Slot] = field(default_factory=list)
    clash: Clash | None = None


@dataclass(frozen=True)
class Column:
    key: str
    label: str


@dataclass(frozen=True)
class Row:
    hour: int
    label: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Grid:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    count: int

    def cell(self, hour: int, column: str) -> Cell | None:
        keys = [c.key for c in self.columns]
        row = next((r for r in self.rows if r.hour == hour), None)
        return row.cells[keys.index(column)] if row and column in keys else None


@dataclass(frozen=True)
class Asked:
    """Where a refused booking was asked for: its local start, therapist and room."""

    local_start: datetime  # naive: the location's wall clock
    therapist_id: str
    room_id: str
    reasons: tuple[str, ...]


def local_start(session: Mapping[str, Any], zone: ZoneInfo) -> datetime:
    moment = parse_instant(session["starts_at"])
    assert moment is not None
    return moment.astimezone(zone)


def local_parts(value: str, zone: ZoneInfo) -> tuple[str, str]:
    """A time as a form's day and time fields at the location (`2026-12-09`, `10:00`)."""
    moment = parse_instant(value)
    assert moment is not None
    local = moment.astimezone(zone)
    return local.date().isoformat(), f"{local:%H:%M}"


def column_key(view: View, by: By, session_day: date, therapist_id: str, room_id: str) -> str:
    if view == "week":
        return session_day.isoformat()
    return therapist_id if by == "therapist" else room_id or NO_ROOM


def columns_for(
    win: Window,
    by: By,
    therapists: Mapping[str, str],
    rooms: Iterable[str],
) -> tuple[Column, ...]:
    """A week: its seven days. A day: every therapist (by name) or every room seen, so an empty
    column still shows that someone is free."""
    if win.view == "week":
        return tuple(Column(d.isoformat(), f"{d:%a} {d.day} {d:%b}") for d in win.days)
    if by == "therapist":
        ordered = sorted(therapists.items(), key=lambda item: (item[1].casefold(), item[0]))
        return tuple(Column(key, name) for key, name in ordered)
    return tuple(
        Column(room, room or "No room") for room in sorted(set(rooms), key=lambda r: (r == "", r))
    )


def rooms_of(sessions: Iterable[Mapping[str, Any]], asked: Asked | None = None) -> list[str]:
    found = {s.get("room_id") or NO_ROOM for s in sessions}
    if asked is not None:
        found.add(asked.room_id)
    return sorted(found)


def build_grid(
    win: Window,
    by: By,
    sessions: Sequence[Mapping[str, Any]],
    zone: ZoneInfo,
    therapists: Mapping[str, str],
    patients: Mapping[str, str],
    asked: Asked | None = None,
) -> Grid:
    """The view's grid: each session in the cell of its local starting hour and its column; a
    therapist the list does not name (left, or at another location) gets a column of their id;
    the refused booking's reasons in the cell it asked for."""
    named = dict(therapists)
    for s in sessions:
        named.setdefault(s["therapist_id"], s["therapist_id"])
    if asked is not None:
        named.setdefault(asked.therapist_id, asked.therapist_id)
    columns = columns_for(win, by, named, rooms_of(sessions, asked))
    keys = [c.key for c in columns]
    placed: list[tuple[int, str, Slot]] = []
    for s in sorted(sessions, key=lambda s: (str(s["starts_at"]), s["session_id"])):
        start = local_start(s, zone)
        if start.date() not in win.days:
            continue
        end = start + timedelta(minutes=int(s.get("duration_minutes") or 0))
        room = s.get("room_id") or NO_ROOM
        slot = Slot(
            session_id=s["session_id"],
            plan_id=s["plan_id"],
            starts=f"{start:%H:%M}",
            ends=f"{end:%H:%M}",
            patient=patients.get(s.get("patient_id", ""), "Patient not shown"),
            therapist=named.get(s["therapist_id"], s["therapist_id"]),
            room=room,
            status=s.get("status", ""),
            status_label=STATUS_LABELS.get(s.get("status", ""), s.get("status", "")),
            patient_id=s.get("patient_id", ""),
        )
        placed.append(
            (start.hour, column_key(win.view, by, start.date(), s["therapist_id"], room), slot)
        )
    clash_at = clash_cell(win, by, asked) if asked is not None else None
    hours = set(range(FIRST_HOUR, LAST_HOUR + 1)) | {hour for hour, _, _ in placed}
    if clash_at is not None:
        hours.add(clash_at[0])
    rows = []
    for hour in sorted(hours):
        cells = tuple(Cell() for _ in columns)
        for at, key, slot in placed:
            if at == hour and key in keys:
                cells[keys.index(key)].slots.append(slot)
        if clash_at is not None and clash_at[0] == hour and clash_at[1] in keys and asked:
            cells[keys.index(clash_at[1])].clash = Clash(asked_words(asked, named), asked.reasons)
        rows.append(Row(hour, f"{hour:02d}:00", cells))
    return Grid(columns, tuple(rows), sum(1 for _ in placed))


def clash_cell(win: Window, by: By, asked: Asked) -> tuple[int, str] | None:
    """The (hour, column) of the cell a refused booking asked for; None outside the view."""
    day = asked.local_start.date()
    if day not in win.days:
        return None
    return asked.local_start.hour, column_key(win.view, by, day, asked.therapist_id, asked.room_id)


def asked_words(asked: Asked, therapists: Mapping[str, str]) -> str:
    """`Tue 9 Dec 10:00 with Sam Ortiz` (and the room, when one was asked for)."""
    start = asked.local_start
    who = therapists.get(asked.therapist_id, asked.therapist_id)
    room = f" in room {asked.room_id}" if asked.room_id else ""
    return f"{start:%a} {start.day} {start:%b %H:%M} with {who}{room}"


def booked_words(session: Mapping[str, Any], zone: ZoneInfo, therapist: str) -> str:
    """`Tue 9 Dec 10:00 with Sam Ortiz`: the confirmation's words for a session."""
    start = local_start(session, zone)
    return f"{start:%a} {start.day} {start:%b %H:%M} with {therapist}"


def therapists_at(people: Iterable[Mapping[str, Any]], location_id: str) -> dict[str, str]:
    """The therapists (id -> name) who work at the location (no locations: every one)."""
    return {
        p["user_id"]: p.get("name") or p["user_id"]
        for p in people
        if p.get("locations") is None or location_id in p["locations"]
    }


ROOM = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
ROOM_RULE = "a room as the location names it: letters, digits and . _ : - only"


def parse_room(value: str | None) -> tuple[str, str]:
    """The room the calendar is filtered by ("" for every room), or what is wrong with it."""
    room = (value or "").strip()
    if room and not ROOM.match(room):
        return "", ROOM_RULE
    return room, ""


def parse_day(value: str | None, today: date) -> date:
    """The view's day from the address (`2026-12-09`); today for anything else."""
    try:
        return date.fromisoformat(value) if value else today
    except ValueError:
        return today
