"""Cross-site request forgery: every state-changing request must carry the session's form token
(a hidden `csrf_token` field every form has) and, when the browser names where it came from,
come from the console itself. Checked before anything else runs; a refusal changes nothing.

The token is made with the session (signed in or not: the sign-in form has one too) and made
anew when the person signs in or out, so a token seen before sign-in is worth nothing after.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session

from shared.web.same_origin import is_same_origin

FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def form_token() -> str:
    """The session's form token (made on first use): templates put it in every form."""
    token = session.get(FIELD)
    if not isinstance(token, str):
        token = session[FIELD] = secrets.token_urlsafe(32)
    return token


def renew_form_token() -> None:
    session[FIELD] = secrets.token_urlsafe(32)


def is_forged(ours: list[str]) -> bool:
    """Whether the request fails either defence (checked only for state-changing methods)."""
    if request.method in SAFE_METHODS:
        return False
    if not is_same_origin(request.headers.get("Origin"), request.headers.get("Referer"), ours):
        return True
    expected, posted = session.get(FIELD), request.form.get(FIELD)
    if not isinstance(expected, str) or not posted:
        return True
    return not hmac.compare_digest(expected.encode(), posted.encode())


def init_csrf(app: Flask, public_url: str) -> None:
    @app.before_request
    def _refuse_forged_requests() -> None:
        if request.endpoint in (None, "static"):
            return
        if is_forged([public_url, request.host_url]):
            abort(403, description="forged")

    app.jinja_env.globals["csrf_token"] = form_token
