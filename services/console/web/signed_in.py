"""Who is signed in, and keeping them so while they are active.

The session keeps the person's tokens. On each page request or form post of a signed-in person,
a token renewed more than `REFRESH_AFTER_S` ago (or about to expire) is renewed through intake
first, so intake's idle timeout is the console's idle timeout, give or take that minute; a
session intake has ended (idle, 12 hours, signed out elsewhere, disabled) sends the person to
the sign-in page with a word of why. Nothing runs in the background: an idle person's session
simply ends on the server.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request, session, url_for

from services.console.api_clients import ApiError, Apis
from services.console.bootstrap import Deps
from services.console.domain.places import Place
from services.console.web.csrf import renew_form_token

TOKENS = "tokens"
CHALLENGE = "challenge"
REFRESH_AFTER_S = 60
EXPIRY_MARGIN_S = 30
ENROL = "sign_in.enrol"
SESSION_ENDED = "Your session has ended. Sign in again to go on."


@dataclass(frozen=True)
class Person:
    """The signed-in person as intake's `GET /auth/me` describes them."""

    user_id: str
    name: str
    email: str
    role: str
    scope: str
    tenant_id: str
    clinic_name: str
    idle_minutes: int
    places: tuple[Place, ...]
    therapists: tuple[dict[str, Any], ...] = ()
    """The active therapists at the person's locations: `user_id`, `name`, `locations`."""

    @classmethod
    def of(cls, me: dict[str, Any]) -> Person:
        clinic = me.get("clinic") or {}
        return cls(
            user_id=me["user_id"],
            name=me.get("name") or me.get("email", ""),
            email=me.get("email", ""),
            role=me["role"],
            scope=me.get("scope", "all"),
            tenant_id=clinic.get("tenant_id", ""),
            clinic_name=clinic.get("name", ""),
            idle_minutes=int(clinic.get("session_idle_minutes") or 15),
            places=tuple(Place.of(p) for p in clinic.get("locations") or []),
            therapists=tuple(clinic.get("therapists") or ()),
        )


def deps() -> Deps:
    return current_app.extensions["deps"]


def person() -> Person:
    return g.person


def apis() -> Apis:
    """The three APIs as the signed-in person (or as nobody on the sign-in pages)."""
    if "apis" not in g:
        g.apis = deps().apis(forwarded_for=request.remote_addr)
    return g.apis


def keep_tokens(answer: dict[str, Any]) -> None:
    """Keep the tokens of a sign-in or refresh answer in the session."""
    now = time.time()
    session[TOKENS] = {
        "access": answer["access_token"],
        "refresh": answer["refresh_token"],
        "expires_at": now + int(answer["expires_in"]),
        "refreshed_at": now,
    }
    session.pop(CHALLENGE, None)


def start_session(answer: dict[str, Any]) -> None:
    """A fresh session for a person who just signed in (a new form token too)."""
    session.clear()
    renew_form_token()
    keep_tokens(answer)


def end_session() -> None:
    session.clear()
    renew_form_token()


def seconds_left(idle_minutes: int) -> int:
    """How long the session lasts without another request: the page's idle warning counts it."""
    tokens = session.get(TOKENS) or {}
    return max(0, int(idle_minutes * 60 - (time.time() - tokens.get("refreshed_at", 0))))


def refresh_tokens(force: bool = False) -> None:
    """Renew the tokens when due (or now); `ApiError("signed_out")` once intake ended it. The
    answer describes the person too: kept for the new token, so a page that renews the tokens
    makes no `/auth/me` call besides (one call of the page's four, not two)."""
    tokens = session[TOKENS]
    now = time.time()
    due = now - tokens["refreshed_at"] > REFRESH_AFTER_S
    expiring = tokens["expires_at"] - now < EXPIRY_MARGIN_S
    if force or due or expiring:
        renew = deps().apis(forwarded_for=request.remote_addr).intake.refresh
        answer = deps().refreshes.refresh(tokens["refresh"], renew)
        keep_tokens(answer)
        if answer.get("person"):
            deps().people.put(answer["access_token"], answer["person"])


def safe_next(target: str | None) -> str | None:
    """A path on this site to go back to after sign-in; None for anything else."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def to_sign_in(message: str | None = None):
    if message:
        flash(message, "notice")
    here = safe_next(request.full_path.rstrip("?")) if request.method == "GET" else None
    return redirect(url_for("sign_in.form", next=here))


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """The page is for a signed-in person: `person()` and `apis()` are theirs within it."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not isinstance(session.get(TOKENS), dict):
            return to_sign_in()
        try:
            refresh_tokens()
            token = session[TOKENS]["access"]
            g.person = Person.of(deps().people.get(token))
        except ApiError as error:
            if error.kind != "signed_out":
                raise
            end_session()
            return to_sign_in(SESSION_ENDED)
        g.apis = deps().apis(token, forwarded_for=request.remote_addr)
        if g.person.scope != "all" and request.endpoint != ENROL:
            return redirect(url_for(ENROL))
        return view(*args, **kwargs)

    return wrapper
