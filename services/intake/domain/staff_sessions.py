"""Staff sessions: when one ends, and the claims of the access tokens it gets.

A session ends on sign-out, when an old refresh token of it is used again (a stolen copy: the
whole session ends), after the clinic's idle timeout since its last refresh or sign-in (a
client refreshes only while its person is active), and after its absolute lifetime (12 hours
by default), whichever comes first; intake enforces the last two at each refresh. An access
token never outlives its session.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from shared.tokens import AccessClaims

SIGNED_OUT, REUSED, IDLE, EXPIRED = "signed_out", "refresh_token_reused", "idle", "expired"
REUSED_TOKENS_KEPT = 400
"""Earlier refresh tokens a session remembers (to tell a reused one from a forged one); at one
refresh every few minutes, more than a 12-hour session uses."""


def end_reason(session: Mapping[str, Any], idle_minutes: int, now: datetime) -> str | None:
    """Why the session is over (it may not be refreshed), or None while it lasts."""
    if session.get("ended_at") is not None:
        return session.get("end_reason") or SIGNED_OUT
    if now >= session["ends_at"]:
        return EXPIRED
    if now - session["last_active_at"] >= timedelta(minutes=idle_minutes):
        return IDLE
    return None


def access_claims(
    user: Mapping[str, Any], session: Mapping[str, Any], scope: str, now: datetime, ttl_s: int
) -> AccessClaims:
    issued = int(now.timestamp())
    ends = int(session["ends_at"].timestamp())
    locations = user.get("locations")
    return AccessClaims(
        user_id=user["_id"],
        tenant_id=user["tenant_id"],
        role=user["role"],
        name=user["name"],
        locations=None if locations is None else tuple(locations),
        staff_session_id=session["_id"],
        version=user["version"],
        scope=scope,
        issued_at=issued,
        expires_at=min(issued + ttl_s, ends),
    )
