"""The links a staff member gets by email: the invitation (set a first password, 72 h) and the
password reset (set a new one, 1 h). Each is single-use: only its hash is stored, and setting
the password removes it in the same guarded write.

Asking for a reset always answers the same (202), whether the clinic and email are known or
not; at most one reset email per account per minute. A reset ends every earlier session of the
user and refuses their earlier access tokens everywhere (`access.user_updated`), and lifts a
lockout. A password the policy refuses (`domain/passwords.py`) leaves the link usable.
"""

from __future__ import annotations

from typing import Any

from services.intake import events
from services.intake.bootstrap import Deps
from services.intake.domain.opaque_tokens import new_token, parse_token
from services.intake.domain.passwords import hash_password, password_problem
from services.intake.domain.staff_users import (
    ACTIVE,
    EXPIRED_LINK,
    INVITATION,
    LINK_TTL,
    PASSWORD_RESET,
    link_problem,
    link_url,
    normalize_email,
    reset_recently_sent,
)
from services.intake.repository.sign_in_guards import SignInFailures
from services.intake.repository.tenants import Tenants
from services.intake.repository.users import Users
from services.intake.usecases import staff_audit
from services.intake.usecases.address_limits import count_request
from shared.errors import Invalid, NotFound


def accept_invitation(deps: Deps, token: str, password: str, address: str) -> dict[str, Any]:
    """Set the invited user's first password: they are active and may sign in."""
    count_request(deps, address)
    user = _linked_user(deps, token, INVITATION)
    if problem := password_problem(password, email=user["email"]):
        raise Invalid(problem)
    changes = {
        "password_hash": hash_password(password),
        "status": ACTIVE,
        "activated_at": deps.clock(),
    }
    if not _set_password(deps, user, changes, events_after=False):
        raise NotFound(EXPIRED_LINK)
    staff_audit.record(deps, user["tenant_id"], user, "user.password_set", detail="invitation")
    return _who(user)


def request_password_reset(deps: Deps, clinic: str, email: str, address: str) -> None:
    """Email a reset link to the account, if there is such an active one (the answer is the
    same either way)."""
    count_request(deps, address)
    tenant = Tenants(deps.db, clinic).get()
    users, now = Users(deps.db, clinic), deps.clock()
    user = users.by_email(normalize_email(email))
    if tenant is None or user is None or user["status"] != ACTIVE or reset_recently_sent(user, now):
        return
    raw, hashed = new_token(clinic, user["_id"])
    expires_at = now + LINK_TTL[PASSWORD_RESET]
    link = {"purpose": PASSWORD_RESET, "hash": hashed, "expires_at": expires_at, "created_at": now}
    url = link_url(deps.settings.own.console_public_url, PASSWORD_RESET, raw)
    event = events.account_link(
        "user.password_reset_requested", user, tenant["name"], url, expires_at
    )
    if users.touch(user["_id"], {"$set": {"link": link}}, {"status": ACTIVE}, [event]):
        staff_audit.record(
            deps, clinic, user, "user.password_reset_requested", detail=f"from {address}"
        )


def complete_password_reset(deps: Deps, token: str, password: str, address: str) -> dict[str, Any]:
    """Set the new password; earlier sessions and tokens of the user end."""
    count_request(deps, address)
    user = _linked_user(deps, token, PASSWORD_RESET)
    if problem := password_problem(password, email=user["email"]):
        raise Invalid(problem)
    now = deps.clock()
    changes = {"password_hash": hash_password(password), "sessions_valid_after": now}
    if not _set_password(deps, user, changes, events_after=True):
        raise NotFound(EXPIRED_LINK)
    SignInFailures(deps.db, user["tenant_id"]).clear(user["email"])
    staff_audit.record(deps, user["tenant_id"], user, "user.password_reset")
    return _who(user)


def _linked_user(deps: Deps, token: str, purpose: str) -> dict[str, Any]:
    parsed = parse_token(token)
    user = Users(deps.db, parsed[0]).get(parsed[1]) if parsed else None
    if link_problem(user, purpose, token, deps.clock()):
        raise NotFound(EXPIRED_LINK)
    assert user is not None
    return user


def _set_password(
    deps: Deps, user: dict[str, Any], changes: dict[str, Any], *, events_after: bool
) -> bool:
    after = {**user, **changes, "version": user["version"] + 1}
    updated = [events.user_updated(after)] if events_after else []
    update = {"$set": changes, "$unset": {"link": "", "challenge": ""}}
    return Users(deps.db, user["tenant_id"]).change(
        user, update, updated, guard={"link.hash": user["link"]["hash"]}
    )


def _who(user: dict[str, Any]) -> dict[str, Any]:
    """What the console needs to offer the sign-in next: the clinic, the email, the name."""
    return {k: user[k] for k in ("tenant_id", "email", "name")} | {"user_id": user["_id"]}
