"""Page 8: the calendar of a location. A day by therapist or by room, or a week (of everyone or
of one therapist), in the location's zone; booking a session there: a double booking, or a
session the referral does not cover, is refused by planning and its reason is shown in the slot
asked for and next to the time, with the form as it was typed.

API calls: the person (usually kept: it names the therapists), the window's sessions, the
location's active plans (whom a session may be booked for; only for a role that may book), the
patients of both in one call. A booking adds its own call and, once booked, the patient's name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from services.console.api_clients import ApiError
from services.console.domain.booking_form import BOOKING_FIELDS, booking_body, local_start, on_form
from services.console.domain.calendar import (
    VIEWS,
    Asked,
    By,
    View,
    asked_words,
    booked_words,
    build_grid,
    parse_day,
    parse_room,
    therapists_at,
    window,
)
from services.console.domain.offers import may
from services.console.domain.patient_names import name_of, names_of
from services.console.domain.places import Place, place_of
from services.console.domain.precautions import precautions_of
from services.console.domain.times import today_in
from services.console.web.forms import field_errors, typed
from services.console.web.signed_in import apis, deps, person, signed_in

blp = Blueprint("calendar", __name__)


@dataclass(frozen=True)
class Shown:
    """What the calendar shows: where, which view of which day, by what, whose."""

    place: Place
    view: View
    day: date
    by: By
    therapist: str  # "" for everyone
    room: str = ""  # "" for every room
    room_error: str = ""  # a room the calendar could not be filtered by

    def args(self, **changes: Any) -> dict[str, str]:
        shown = replace(self, **changes)
        found = {
            "location": shown.place.location_id,
            "view": shown.view,
            "date": shown.day.isoformat(),
            "by": shown.by,
        }
        if shown.therapist:
            found["therapist"] = shown.therapist
        if shown.room:
            found["room"] = shown.room
        return found


def _offered(action: str) -> None:
    if not may(person().role, action):
        abort(403)


def _shown(args: Any) -> Shown:
    places = person().places
    if not places:
        abort(404)
    place = place_of(places, args.get("location")) or places[0]
    view: View = args.get("view") if args.get("view") in VIEWS else "day"
    by: By = "room" if args.get("by") == "room" else "therapist"
    today = today_in(place.zone, deps().clock())
    day = parse_day(args.get("date"), today)
    room, problem = parse_room(args.get("room"))
    return Shown(place, view, day, by, args.get("therapist", ""), room, problem)


def _show(
    shown: Shown,
    asked: Asked | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
):
    g.section = "calendar"
    planning, zone = apis().planning, shown.place.zone
    win = window(shown.view, shown.day, zone)
    found = planning.sessions(
        win.start.isoformat(),
        win.end.isoformat(),
        location_id=shown.place.location_id,
        therapist_id=shown.therapist or None,
        room_id=shown.room or None,
    )
    sessions = found["items"]
    bookable = may(person().role, "session.book")
    plans = (
        planning.plans(location_id=shown.place.location_id, status="active", page_size=100)["items"]
        if bookable
        else []
    )
    wanted = [s["patient_id"] for s in sessions] + [p["patient_id"] for p in plans]
    known = apis().intake.patients(wanted)
    patients = names_of(known)
    flags = {p["patient_id"]: precautions_of(p.get("screening")) for p in known}
    therapists = therapists_at(person().therapists, shown.place.location_id)
    columns = {k: v for k, v in therapists.items() if k == shown.therapist or not shown.therapist}
    grid = build_grid(win, shown.by, sessions, zone, columns, patients, asked)
    choices = sorted(
        ((p["plan_id"], patients.get(p["patient_id"], p["patient_id"])) for p in plans),
        key=lambda choice: choice[1].casefold(),
    )
    body = render_template(
        "calendar.html",
        flags=flags,
        shown=shown,
        win=win,
        grid=grid,
        total=found["total"],
        listed=len(sessions),
        therapists=sorted(therapists.items(), key=lambda t: t[1].casefold()),
        plans=choices,
        views=VIEWS,
        asked=asked,
        asked_words=asked_words(asked, therapists) if asked else "",
        errors=errors or {},
        values=typed() if errors else {},
        today=today_in(zone, deps().clock()),
    )
    return body, status


@blp.get("/calendar")
@signed_in
def show():
    return _show(_shown(request.args))


@blp.post("/calendar/book")
@signed_in
def book():
    _offered("session.book")
    shown = _shown(request.form)
    body, errors = booking_body(request.form)
    if errors:
        return _show(shown, errors=errors, status=422)
    start, _ = local_start(request.form)
    assert start is not None
    shown = replace(shown, day=start.date())  # the slot asked for is in view
    plan_id = request.form["plan_id"]
    try:
        booked = apis().planning.book_session(
            plan_id, {**body, "location_id": shown.place.location_id}
        )
    except ApiError as error:
        if error.kind not in ("invalid", "conflict"):
            raise
        errors = field_errors(error, BOOKING_FIELDS, on_form)
        asked = None
        if error.kind == "conflict":
            reasons = tuple(error.fields.get("starts_at_local") or [error.message])
            asked = Asked(start, body["therapist_id"], body.get("room_id") or "", reasons)
        return _show(shown, asked, errors, 409 if error.kind == "conflict" else 422)
    therapists = therapists_at(person().therapists, shown.place.location_id)
    therapist = therapists.get(booked["therapist_id"], booked["therapist_id"])
    [patient, *_] = apis().intake.patients([booked["patient_id"]]) or [{}]
    flash(
        f"Session booked for {booked_words(booked, shown.place.zone, therapist)}"
        f" for {name_of(patient)}.",
        "success",
    )
    return redirect(url_for("calendar.show", **shown.args()))
