"""Staff users of a clinic: invited by an admin (the first one by ops: `cli.py create-admin`),
given a role and locations, disabled.

An invitation is a single-use link to the staff console, valid 72 hours, emailed through
notifications (`user.invited`, saved with the user in one write). A change of role or
locations, and disabling, emit `access.user_updated`: every service refuses the user's older
access tokens within seconds, and intake's next refresh issues them with the new access (a
disabled user gets none). These use cases take the tenant id and the acting `actor` (the ops
CLI calls `invite_user` too).
"""

from __future__ import annotations

from typing import Any

from services.intake import events
from services.intake.bootstrap import Deps
from services.intake.domain.opaque_tokens import new_token
from services.intake.domain.staff_users import (
    DISABLED,
    INVITATION,
    INVITED,
    LINK_TTL,
    SignInPolicy,
    access_problem,
    email_problem,
    link_url,
    normalize_email,
)
from services.intake.repository.users import HIDDEN, Users
from services.intake.usecases.tenants import get_tenant
from shared.errors import Conflict, Invalid, NotFound
from shared.ids import new_id
from shared.paging import Page, PageRequest
from shared.retry import retry_on_conflict
from shared.web.auth import Principal


def view(user: dict[str, Any]) -> dict[str, Any]:
    """The user as the API shows them: no secret, and whether they have a second factor."""
    shown = {k: v for k, v in user.items() if k not in HIDDEN}
    shown["totp_enrolled"] = bool((user.get("totp") or {}).get("secret"))
    return shown


def invite_user(
    deps: Deps,
    tenant_id: str,
    *,
    name: str,
    email: str,
    role: str,
    locations: list[str] | None = None,
    invited_by: str,
) -> tuple[dict[str, Any], str]:
    """A new invited user and their invitation link (also emailed: `user.invited`)."""
    tenant = get_tenant(deps, tenant_id)
    if problem := email_problem(email) or access_problem(tenant, role, locations):
        raise Invalid(problem)
    now, user_id = deps.clock(), new_id("usr")
    raw, hashed = new_token(tenant_id, user_id)
    expires_at = now + LINK_TTL[INVITATION]
    user = {
        "_id": user_id,
        "tenant_id": tenant_id,
        "name": name,
        "email": normalize_email(email),
        "role": role,
        "locations": None if locations is None else sorted(set(locations)),
        "status": INVITED,
        "password_hash": None,
        "totp": None,
        "recovery_codes": [],
        "link": {
            "purpose": INVITATION,
            "hash": hashed,
            "expires_at": expires_at,
            "created_at": now,
        },
        "invited_by": invited_by,
        "version": 1,
        "created_at": now,
    }
    link = link_url(deps.settings.own.console_public_url, INVITATION, raw)
    invited = events.account_link("user.invited", user, tenant["name"], link, expires_at)
    if not Users(deps.db, tenant_id).insert(user, [invited]):
        raise Conflict(f"this clinic already has a user with the email {user['email']}")
    return view(user), link


def resend_invitation(deps: Deps, tenant_id: str, user_id: str) -> dict[str, Any]:
    """A new invitation link (the earlier one stops working) for a user still invited."""
    tenant, users = get_tenant(deps, tenant_id), Users(deps.db, tenant_id)

    def attempt() -> dict[str, Any] | None:
        user = get_user_record(deps, tenant_id, user_id)
        if user["status"] != INVITED:
            raise Conflict("this user has accepted their invitation already")
        now = deps.clock()
        raw, hashed = new_token(tenant_id, user_id)
        expires_at = now + LINK_TTL[INVITATION]
        link = {"purpose": INVITATION, "hash": hashed, "expires_at": expires_at, "created_at": now}
        url = link_url(deps.settings.own.console_public_url, INVITATION, raw)
        event = events.account_link("user.invited", user, tenant["name"], url, expires_at)
        changed = users.change(user, {"$set": {"link": link}}, [event])
        return view({**user, "link": link, "version": user["version"] + 1}) if changed else None

    return retry_on_conflict(attempt, what=f"user {user_id!r}")


def list_users(
    deps: Deps, tenant_id: str, filters: dict[str, Any], request: PageRequest
) -> Page[dict[str, Any]]:
    """The clinic's users by name, optionally of one status or role."""
    wanted = {k: v for k, v in filters.items() if k in ("status", "role") and v}
    return Users(deps.db, tenant_id).page(wanted, request).map(view)


def get_user_record(deps: Deps, tenant_id: str, user_id: str) -> dict[str, Any]:
    user = Users(deps.db, tenant_id).get(user_id)
    if user is None:
        raise NotFound(f"no user {user_id!r}")
    return user


def get_user(deps: Deps, tenant_id: str, user_id: str) -> dict[str, Any]:
    return view(get_user_record(deps, tenant_id, user_id))


def whoami(deps: Deps, principal: Principal) -> dict[str, Any]:
    """The signed-in person, and their clinic as they may see it: its name, its idle timeout,
    and the locations they may see with each one's time zone and rooms (what the console
    shows)."""
    assert principal.user_id is not None
    user = get_user(deps, principal.tenant_id, principal.user_id)
    tenant = get_tenant(deps, principal.tenant_id)
    visible = [
        {
            **{k: place[k] for k in ("location_id", "name", "timezone")},
            "rooms": place.get("rooms", []),
        }
        for place in tenant.get("locations", [])
        if principal.may_see_location(place["location_id"])
    ]
    clinic = {
        "tenant_id": tenant["_id"],
        "name": tenant.get("name", tenant["_id"]),
        "session_idle_minutes": SignInPolicy.of(tenant).session_idle_minutes,
        "locations": visible,
        "therapists": _therapists_at(deps, principal),
    }
    return {
        **user,
        "staff_session_id": principal.staff_session_id,
        "scope": principal.scope,
        "clinic": clinic,
    }


def _therapists_at(deps: Deps, principal: Principal) -> list[dict[str, Any]]:
    """The active therapists who work at a location the person may see (whom a calendar
    shows and books): id, name, and their locations (None: every location)."""
    return [
        {"user_id": user["_id"], "name": user.get("name", ""), "locations": user.get("locations")}
        for user in Users(deps.db, principal.tenant_id).active_with_role("therapist")
        if user.get("locations") is None
        or principal.locations is None
        or set(user["locations"]) & set(principal.locations)
    ]


def change_access(
    deps: Deps,
    tenant_id: str,
    user_id: str,
    *,
    role: str,
    locations: list[str] | None,
    version: int,
    actor: str,
) -> dict[str, Any]:
    """A user's new role and locations (at the `version` the caller saw)."""
    tenant, users = get_tenant(deps, tenant_id), Users(deps.db, tenant_id)
    if problem := access_problem(tenant, role, locations):
        raise Invalid(problem)
    user = get_user_record(deps, tenant_id, user_id)
    if user["status"] == DISABLED:
        raise Conflict("this user is disabled")
    if actor == f"user:{user_id}" and role != user["role"]:
        raise Conflict("you may not change your own role: ask another admin")
    if user["version"] != version:
        raise Conflict(f"the user changed since version {version}: reload it")
    changes = {"role": role, "locations": None if locations is None else sorted(set(locations))}
    after = {**user, **changes, "version": version + 1}
    if not users.change(user, {"$set": changes}, [events.user_updated(after)]):
        raise Conflict(f"the user changed since version {version}: reload it")
    return view(after)


def disable_user(deps: Deps, tenant_id: str, user_id: str, *, actor: str) -> dict[str, Any]:
    """Disable the user for good: every token and session of theirs stops working (within
    seconds in every service); disabling again changes nothing."""
    if actor == f"user:{user_id}":
        raise Conflict("you may not disable your own account: ask another admin")
    users = Users(deps.db, tenant_id)

    def attempt() -> dict[str, Any] | None:
        user = get_user_record(deps, tenant_id, user_id)
        if user["status"] == DISABLED:
            return view(user)
        disabled = {"status": DISABLED, "disabled_at": deps.clock(), "disabled_by": actor}
        after = {**user, **disabled, "version": user["version"] + 1}
        update = {
            "$set": disabled,
            "$unset": {"link": "", "challenge": "", "totp_pending": ""},
        }
        return view(after) if users.change(user, update, [events.user_updated(after)]) else None

    return retry_on_conflict(attempt, what=f"user {user_id!r}")
