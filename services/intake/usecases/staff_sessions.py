"""Staff sessions: starting one (after sign-in), refreshing it, ending it, and whether a token of
it is still good in intake itself.

A session holds the hash of its current refresh token (opaque: `<tenant>.<session>.<secret>`),
rotated at every refresh; presenting an earlier one means a copy was stolen, and the whole
session ends (`access.session_ended`, so every service refuses its access tokens within
seconds). Intake enforces the idle timeout (the clinic's setting) and the absolute lifetime at
refresh, and reads the user afresh each time: the new access token carries their current role
and locations, and a disabled user gets none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.database import Database

from services.intake import events
from services.intake.bootstrap import Deps
from services.intake.domain.opaque_tokens import new_token, parse_token, token_hash
from services.intake.domain.staff_sessions import REUSED, SIGNED_OUT, access_claims, end_reason
from services.intake.domain.staff_users import ACTIVE, SignInPolicy, session_scope
from services.intake.errors import SignInUnavailable
from services.intake.repository.staff_sessions import StaffSessions
from services.intake.repository.tenants import Tenants
from services.intake.repository.users import Users
from services.intake.usecases import staff_audit
from shared.errors import Unauthorized
from shared.ids import new_id
from shared.replicas import AccessState
from shared.tokens import sign
from shared.web.auth import Principal, principal_from_claims

SESSION_GONE = "this session has ended or the refresh token is not valid: sign in again"


@dataclass(frozen=True)
class Tokens:
    """What a client keeps: the access token (minutes) and the refresh token (the session)."""

    access_token: str
    refresh_token: str
    expires_in: int
    staff_session_id: str
    scope: str
    user_id: str
    token_type: str = "Bearer"
    principal: Principal | None = field(default=None, repr=False, compare=False)
    """Whom the access token names (for an answer that describes them too: the refresh's)."""


def start_session(
    deps: Deps,
    user: dict[str, Any],
    policy: SignInPolicy,
    *,
    second_factor: bool,
) -> Tokens:
    """A new session for a user who just proved who they are (one insert)."""
    now = deps.clock()
    session_id = new_id("sess")
    raw, hashed = new_token(user["tenant_id"], session_id)
    session = {
        "_id": session_id,
        "tenant_id": user["tenant_id"],
        "user_id": user["_id"],
        "refresh_hash": hashed,
        "used_refresh_hashes": [],
        "second_factor": second_factor,
        "created_at": now,
        "last_active_at": now,
        "ends_at": now + timedelta(hours=deps.settings.own.session_max_hours),
        "ended_at": None,
        "end_reason": None,
    }
    StaffSessions(deps.db, user["tenant_id"]).insert(session)
    return _tokens(deps, user, session, session_scope(user, policy, second_factor), raw, now)


def refresh(deps: Deps, refresh_token: str) -> Tokens:
    """New tokens for a lasting session (its refresh token rotated); `Unauthorized` otherwise."""
    parsed = parse_token(refresh_token)
    if parsed is None:
        raise Unauthorized(SESSION_GONE)
    tenant_id, session_id = parsed
    sessions, now = StaffSessions(deps.db, tenant_id), deps.clock()
    session = sessions.get(session_id)
    presented = token_hash(refresh_token)
    if session is None:
        raise Unauthorized(SESSION_GONE)
    if presented != session["refresh_hash"]:
        if presented in session.get("used_refresh_hashes", []):
            _end_stolen(deps, session)
        raise Unauthorized(SESSION_GONE)
    tenant = Tenants(deps.db, tenant_id).get() or {}
    policy = SignInPolicy.of(tenant)
    user = Users(deps.db, tenant_id).get(session["user_id"])
    reason = end_reason(session, policy.session_idle_minutes, now)
    if reason is None and not _may_go_on(user, session):
        reason = "account_changed"
    if reason is not None:
        if sessions.end(session_id, reason, now):
            staff_audit.record(deps, tenant_id, user, "session.end", detail=reason)
        raise Unauthorized(f"this session has ended ({reason.replace('_', ' ')}): sign in again")
    raw, hashed = new_token(tenant_id, session_id)
    if not sessions.rotate(session_id, presented, hashed, now):
        _end_stolen(deps, session)  # the same refresh token used twice at once
        raise Unauthorized(SESSION_GONE)
    assert user is not None  # _may_go_on
    scope = session_scope(user, policy, bool(session.get("second_factor")))
    return _tokens(deps, user, session, scope, raw, now)


def sign_out(deps: Deps, refresh_token: str) -> None:
    """End the session the refresh token belongs to (its access tokens are refused everywhere
    within seconds). Signing out of an ended session changes nothing."""
    parsed = parse_token(refresh_token)
    if parsed is None:
        raise Unauthorized(SESSION_GONE)
    tenant_id, session_id = parsed
    sessions = StaffSessions(deps.db, tenant_id)
    session = sessions.get(session_id)
    presented = token_hash(refresh_token)
    known = session is not None and (
        presented == session["refresh_hash"] or presented in session.get("used_refresh_hashes", [])
    )
    if not known:
        raise Unauthorized(SESSION_GONE)
    assert session is not None
    event = events.session_ended(session, SIGNED_OUT)
    if sessions.end(session_id, SIGNED_OUT, deps.clock(), [event]):
        user = Users(deps.db, tenant_id).get(session["user_id"])
        staff_audit.record(deps, tenant_id, user, "user.sign_out")


def access_state(db: Database, tenant_id: str, user_id: str, staff_session_id: str) -> AccessState:
    """Intake's own view of a token's session and user (it owns them: no replica, no delay)."""
    session = StaffSessions(db, tenant_id).get(staff_session_id)
    user = Users(db, tenant_id).get(user_id)
    now = datetime.now(UTC)
    return AccessState(
        session_ended=session is None
        or session.get("ended_at") is not None
        or now >= session["ends_at"],
        user_disabled=user is None or user["status"] != ACTIVE,
        user_version=int((user or {}).get("version", 0)),
    )


def _may_go_on(user: dict[str, Any] | None, session: dict[str, Any]) -> bool:
    """An active user, and a session begun after their last password reset (if any)."""
    if user is None or user["status"] != ACTIVE:
        return False
    valid_after = user.get("sessions_valid_after")
    return valid_after is None or session["created_at"] > valid_after


def _end_stolen(deps: Deps, session: dict[str, Any]) -> None:
    tenant_id = session["tenant_id"]
    event = events.session_ended(session, REUSED)
    if StaffSessions(deps.db, tenant_id).end(session["_id"], REUSED, deps.clock(), [event]):
        user = Users(deps.db, tenant_id).get(session["user_id"])
        staff_audit.record(deps, tenant_id, user, "session.end", outcome="refused", detail=REUSED)


def require_signing_key(deps: Deps) -> None:
    if deps.signing_key is None:
        raise SignInUnavailable("sign-in is not configured on this server (AUTH_SIGNING_PEM)")


def _tokens(
    deps: Deps,
    user: dict[str, Any],
    session: dict[str, Any],
    scope: str,
    raw_refresh: str,
    now: datetime,
) -> Tokens:
    require_signing_key(deps)
    assert deps.signing_key is not None
    claims = access_claims(user, session, scope, now, deps.settings.own.access_token_ttl_s)
    return Tokens(
        access_token=sign(claims, deps.signing_key),
        refresh_token=raw_refresh,
        expires_in=claims.expires_at - claims.issued_at,
        staff_session_id=session["_id"],
        scope=scope,
        user_id=user["_id"],
        principal=principal_from_claims(claims),
    )
