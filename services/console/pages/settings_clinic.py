"""Page 13, clinic settings: the clinic's locations (add one; rename it, change its time zone,
name its rooms)
and how its staff sign in (a second factor for everyone or admins only; the idle timeout).

API calls: the person (usually kept) and the clinic (or its sign-in policy); a form post adds
its change.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.console.api_clients import ApiError
from services.console.domain.clinic_settings import (
    LOCATION_FIELDS,
    POLICY_FIELDS,
    SECTIONS,
    location_body,
    location_on_form,
    policy_body,
    policy_changed,
    rooms_text,
)
from services.console.pages.settings_staff import offered
from services.console.web.forms import field_errors, typed
from services.console.web.signed_in import apis, signed_in

blp = Blueprint("clinic_settings", __name__)


def _locations(errors: dict[str, list[str]] | None = None, failed: str = "", status: int = 200):
    tenant = apis().intake.tenant()
    body = render_template(
        "settings_locations.html",
        sections=SECTIONS,
        current="locations",
        locations=[{**m, "rooms_text": rooms_text(m)} for m in tenant.get("locations") or []],
        errors=errors or {},
        failed=failed,
        values=typed() if errors else {},
    )
    return body, status


@blp.get("/settings/locations")
@signed_in
def locations():
    offered()
    return _locations()


@blp.post("/settings/locations")
@signed_in
def add_location():
    offered()
    try:
        added = apis().intake.add_location(location_body(request.form))
    except ApiError as error:
        if error.kind not in ("invalid", "conflict"):
            raise
        return _locations(field_errors(error, LOCATION_FIELDS, location_on_form), "new", 422)
    flash(f"{added['name']} added, its times in {added['timezone']}{_rooms(added)}.", "success")
    return redirect(url_for("clinic_settings.locations"))


@blp.post("/settings/locations/<location_id>")
@signed_in
def edit_location(location_id: str):
    offered()
    intake = apis().intake
    stored = _location(intake.tenant(), location_id)
    try:
        changed = intake.update_location(location_id, location_body(request.form, stored))
    except ApiError as error:
        if error.kind not in ("invalid", "conflict"):
            raise
        errors = field_errors(error, LOCATION_FIELDS, location_on_form)
        return _locations(errors, location_id, 422)
    flash(
        f"{changed['name']} saved, its times in {changed['timezone']}{_rooms(changed)}.", "success"
    )
    return redirect(url_for("clinic_settings.locations"))


def _rooms(location: dict[str, Any]) -> str:
    names = [r["name"] for r in location.get("rooms") or []]
    return f"; rooms: {', '.join(names)}" if names else "; no rooms"


def _location(tenant: dict[str, Any], location_id: str) -> dict[str, Any] | None:
    return next((m for m in tenant.get("locations") or [] if m["location_id"] == location_id), None)


@blp.get("/settings/sign-in")
@signed_in
def sign_in():
    offered()
    return _policy(apis().intake.sign_in_policy())


def _policy(policy: dict[str, Any], errors: dict[str, list[str]] | None = None, status=200):
    values = (
        typed()
        if errors
        else {
            "require_totp": "yes" if policy.get("require_totp") else "no",
            "session_idle_minutes": str(policy.get("session_idle_minutes", "")),
        }
    )
    body = render_template(
        "settings_sign_in.html",
        sections=SECTIONS,
        current="sign_in",
        values=values,
        errors=errors or {},
    )
    return body, status


@blp.post("/settings/sign-in")
@signed_in
def save_sign_in():
    offered()
    intake = apis().intake
    body, errors = policy_body(request.form)
    if errors:
        return _policy({}, errors, 422)
    try:
        saved = intake.set_sign_in_policy(body)
    except ApiError as error:
        if error.kind != "invalid":
            raise
        return _policy({}, field_errors(error, POLICY_FIELDS), 422)
    flash(policy_changed(saved), "success")
    return redirect(url_for("clinic_settings.sign_in"))
