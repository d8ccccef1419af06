"""Staff users of a clinic: who may be invited as what, their sign-in policy, their links.

Pure: the use cases (usecases/users.py, usecases/sign_in.py) load, ask here, save. A user is
invited (a single-use link, 72 h), becomes active when they set a password through it, and may
be disabled by an admin (for good: a disabled account is never signed in again). A person who
works for two clinics has an account at each: emails are unique per clinic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email

from services.intake.domain.clinic import Problem, location_ids
from services.intake.domain.opaque_tokens import same_hash
from shared.tokens import ENROL_SCOPE, FULL_SCOPE

STAFF_ROLES = ("admin", "front_desk", "therapist")
INVITED, ACTIVE, DISABLED = "invited", "active", "disabled"
USER_STATUSES = (INVITED, ACTIVE, DISABLED)
INVITATION, PASSWORD_RESET = "invitation", "password_reset"
LINK_TTL = {INVITATION: timedelta(hours=72), PASSWORD_RESET: timedelta(hours=1)}
RESET_EVERY = timedelta(minutes=1)
"""At most one password-reset email per account per minute (the rest are answered the same)."""
DEFAULT_IDLE_MINUTES = 15
ROLES_THAT_MUST_ENROL = frozenset({"admin"})
EXPIRED_LINK = "this link has expired or was used already: ask for a new one"


@dataclass(frozen=True)
class SignInPolicy:
    """A clinic's settings for its staff's sign-in (`sign_in` in the tenant document)."""

    require_totp: bool = False
    """Every user must enrol a second factor (admins always must)."""
    session_idle_minutes: int = DEFAULT_IDLE_MINUTES

    @classmethod
    def of(cls, tenant: Mapping[str, Any]) -> SignInPolicy:
        stored = tenant.get("sign_in") or {}
        return cls(
            require_totp=bool(stored.get("require_totp", False)),
            session_idle_minutes=int(stored.get("session_idle_minutes", DEFAULT_IDLE_MINUTES)),
        )


def normalize_email(email: str) -> str:
    return email.strip().lower()


def email_problem(email: str) -> Problem:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        return {"email": [str(error)]}
    return {}


def access_problem(tenant: Mapping[str, Any], role: str, locations: list[str] | None) -> Problem:
    """Why a user may not have this role and these locations (empty when they may)."""
    if role not in STAFF_ROLES:
        return {"role": [f"must be one of {', '.join(STAFF_ROLES)}"]}
    unknown = sorted(set(locations or ()) - set(location_ids(tenant)))
    if unknown:
        return {"locations": [f"not locations of this clinic: {', '.join(unknown)}"]}
    if locations is not None and not locations:
        return {"locations": ["name at least one location, or leave it out for all of them"]}
    return {}


def has_totp(user: Mapping[str, Any]) -> bool:
    return bool((user.get("totp") or {}).get("secret"))


def needs_second_factor(user: Mapping[str, Any], policy: SignInPolicy) -> bool:
    """A user who has a second factor uses it; admins, and everyone where the clinic asks it,
    must have one."""
    return has_totp(user) or user["role"] in ROLES_THAT_MUST_ENROL or policy.require_totp


def session_scope(user: Mapping[str, Any], policy: SignInPolicy, second_factor_done: bool) -> str:
    """What a session's access token allows: everything, or only enrolling a second factor
    (a user who needs one and did not give one in this session)."""
    if needs_second_factor(user, policy) and not second_factor_done:
        return ENROL_SCOPE
    return FULL_SCOPE


def link_problem(
    user: Mapping[str, Any] | None, purpose: str, raw_token: str, now: datetime
) -> str | None:
    """Why an invitation or reset link cannot be used (one message for every reason)."""
    link = (user or {}).get("link") or {}
    wanted_status = INVITED if purpose == INVITATION else ACTIVE
    if (
        user is None
        or user["status"] != wanted_status
        or link.get("purpose") != purpose
        or not same_hash(link.get("hash"), raw_token)
        or now >= link["expires_at"]
    ):
        return EXPIRED_LINK
    return None


def reset_recently_sent(user: Mapping[str, Any], now: datetime) -> bool:
    link = user.get("link") or {}
    made_at = link.get("created_at")
    return (
        link.get("purpose") == PASSWORD_RESET
        and made_at is not None
        and now - made_at < RESET_EVERY
    )


def link_url(console_url: str, purpose: str, raw_token: str) -> str:
    path = "invitation" if purpose == INVITATION else "password-reset"
    return f"{console_url.rstrip('/')}/{path}/{raw_token}"
