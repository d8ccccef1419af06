"""Page 13, clinic settings: staff. The clinic's users (role, locations, status, second factor),
inviting one (they get the email with their link), and each user's page: change their role and
locations, send a new invitation, disable them. Admins only (and the API refuses anyone else).

API calls: the person (usually kept) and the users; a user's page reads that user; a form
post adds its change.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from services.console.api_clients import ApiError
from services.console.domain.clinic_settings import (
    ACCESS_FIELDS,
    INVITE_FIELDS,
    ROLES,
    SECTIONS,
    access_body,
    access_changed,
    invite_body,
    invited,
    places_words,
    staff_row,
)
from services.console.domain.offers import may
from services.console.domain.paging import asked_page, page_count
from services.console.web.forms import field_errors, typed
from services.console.web.signed_in import apis, person, signed_in

blp = Blueprint("staff_settings", __name__)
PAGE_SIZE = 50


def offered() -> None:
    """The settings are an admin's: anyone else is refused before any call is made."""
    g.section = "settings"
    if not may(person().role, "clinic.settings"):
        abort(403)


def _list(errors: dict[str, list[str]] | None = None, status: int = 200):
    page = asked_page(request.args.get("page"))
    found = apis().intake.users(page=page, page_size=PAGE_SIZE)
    places = person().places
    values: dict[str, Any] = typed() if errors else {}
    body = render_template(
        "settings_staff.html",
        sections=SECTIONS,
        current="staff",
        rows=[staff_row(u, places) for u in found["items"]],
        total=found["total"],
        page=page,
        pages=page_count(found["total"], PAGE_SIZE),
        places=places,
        roles=ROLES,
        values=values,
        ticked=request.form.getlist("locations") if errors else [],
        errors=errors or {},
    )
    return body, status


@blp.get("/settings")
@signed_in
def settings():
    offered()
    return redirect(url_for("staff_settings.staff"))


@blp.get("/settings/staff")
@signed_in
def staff():
    offered()
    return _list()


@blp.post("/settings/staff")
@signed_in
def invite():
    offered()
    try:
        user = apis().intake.invite_user(invite_body(request.form))
    except ApiError as error:
        if error.kind not in ("invalid", "conflict"):
            raise
        if error.kind == "conflict":  # the email is a user's already
            return _list({"email": [error.message]}, 409)
        return _list(field_errors(error, INVITE_FIELDS, _on_invite_form), 422)
    flash(invited(user, person().places), "success")
    return redirect(url_for("staff_settings.staff"))


def _on_invite_form(found: dict[str, list[str]]) -> dict[str, list[str]]:
    """`locations.0` is about the locations."""
    return {name.split(".")[0]: problems for name, problems in found.items()}


def _user_page(user: dict[str, Any], errors: dict[str, list[str]] | None = None, status=200):
    places = person().places
    body = render_template(
        "settings_user.html",
        sections=SECTIONS,
        current="staff",
        user=user,
        row=staff_row(user, places),
        places=places,
        roles=ROLES,
        values=typed() if errors else {"role": user.get("role")},
        ticked=request.form.getlist("locations") if errors else (user.get("locations") or []),
        errors=errors or {},
        is_me=user["user_id"] == person().user_id,
    )
    return body, status


@blp.get("/settings/staff/<user_id>")
@signed_in
def user(user_id: str):
    offered()
    return _user_page(apis().intake.user(user_id))


@blp.post("/settings/staff/<user_id>/access")
@signed_in
def change_access(user_id: str):
    offered()
    intake = apis().intake
    version = request.form.get("version", "")
    try:
        changed = intake.change_access(
            user_id, access_body(request.form, int(version) if version.isdigit() else 0)
        )
    except ApiError as error:
        if error.kind not in ("invalid", "conflict"):
            raise
        status = 409 if error.kind == "conflict" else 422
        return _user_page(intake.user(user_id), field_errors(error, ACCESS_FIELDS), status)
    flash(access_changed(changed, person().places), "success")
    return redirect(url_for("staff_settings.user", user_id=user_id))


@blp.post("/settings/staff/<user_id>/disable")
@signed_in
def disable(user_id: str):
    offered()
    intake = apis().intake
    try:
        disabled = intake.disable_user(user_id)
    except ApiError as error:
        if error.kind != "conflict":
            raise
        return _user_page(intake.user(user_id), {"_form": [error.message]}, 409)
    flash(f"{disabled['name']} is disabled: they are signed out everywhere.", "success")
    return redirect(url_for("staff_settings.user", user_id=user_id))


@blp.post("/settings/staff/<user_id>/invitation")
@signed_in
def invite_again(user_id: str):
    offered()
    intake = apis().intake
    try:
        again = intake.resend_invitation(user_id)
    except ApiError as error:
        if error.kind != "conflict":
            raise
        return _user_page(intake.user(user_id), {"_form": [error.message]}, 409)
    where = places_words(again.get("locations"), person().places)
    flash(f"A new invitation is on its way to {again['name']} ({where}).", "success")
    return redirect(url_for("staff_settings.user", user_id=user_id))
