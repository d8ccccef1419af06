"""Sign-in API of the clinic's staff: sign in (password, then a second factor if the person has
one), refresh, sign out, invitation and password-reset links, enrolling a second factor.

Open to anyone (no key): each call is limited per client address, answers a wrong credential
with 401 and an unusable link with 404 (one message each, whatever the reason), and audits
itself (usecases/). Answers carrying tokens are `Cache-Control: no-store`. The tokens: see
docs/api.md, "Authentication".
"""

from __future__ import annotations

from flask import Response, request
from flask_smorest import Blueprint

from services.intake.api.schemas import (
    AccountSchema,
    InvitationAcceptSchema,
    MeSchema,
    PasswordResetCompleteSchema,
    PasswordResetCreateSchema,
    RecoveryCodesSchema,
    RefreshedSchema,
    SecondFactorCreateSchema,
    SignInCreateSchema,
    SignInSchema,
    TokenRefreshSchema,
    TokensSchema,
    TotpConfirmSchema,
    TotpSchema,
)
from services.intake.usecases import account_links, second_factor, sign_in, staff_sessions, users
from services.intake.usecases.sign_in import Challenge
from shared.web.auth import requires_person
from shared.web.views import View, deps, principal, settings

blp = Blueprint(
    "auth",
    __name__,
    url_prefix="/auth",
    description="Staff sign-in: tokens, sessions, invitation and password-reset links, TOTP",
)
PUBLIC = {"security": []}


@blp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def client_address() -> str:
    """The caller's address; behind a trusted proxy (`TRUSTED_PROXIES`, e.g. the console), the
    nearest address it forwarded that is not itself a trusted proxy."""
    remote = request.remote_addr or "unknown"
    trusted = {a.strip() for a in settings().own.trusted_proxies.split(",") if a.strip()}
    if remote not in trusted:
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    return next((hop[:64] for hop in reversed(hops) if hop not in trusted), remote)


@blp.route("/sign-in")
class SignIn(View):
    @blp.doc(**PUBLIC)
    @blp.arguments(SignInCreateSchema)
    @blp.response(200, SignInSchema)
    @blp.alt_response(401, description="Not signed in: one answer for every reason")
    @blp.alt_response(429, description="Too many requests from this address (`Retry-After`)")
    def post(self, body):
        """Sign in to a clinic with an email and password: tokens, or a second-factor challenge."""
        result = sign_in.sign_in(
            deps(), body["clinic"], body["email"], body["password"], client_address()
        )
        if isinstance(result, Challenge):
            return {
                "status": "second_factor_required",
                "challenge": result.challenge,
                "challenge_expires_in": result.expires_in,
            }
        return {"status": "signed_in", **vars(result)}


@blp.route("/sign-in/second-factor")
class SecondFactor(View):
    @blp.doc(**PUBLIC)
    @blp.arguments(SecondFactorCreateSchema)
    @blp.response(200, TokensSchema)
    @blp.alt_response(401, description="Wrong, reused or late code, or the challenge expired")
    def post(self, body):
        """Complete a sign-in with a code of the authenticator app (or a recovery code)."""
        return sign_in.complete_second_factor(
            deps(),
            body["challenge"],
            client_address(),
            code=body["code"],
            recovery_code=body["recovery_code"],
        )


@blp.route("/refresh")
class Refresh(View):
    @blp.doc(**PUBLIC)
    @blp.arguments(TokenRefreshSchema)
    @blp.response(200, RefreshedSchema)
    @blp.alt_response(401, description="The session has ended (sign in again)")
    def post(self, body):
        """New tokens for the session; the refresh token is replaced (an old one used again ends
        the session). Sessions end when idle (the clinic's setting) and after 12 hours. The
        answer describes the person as `GET /auth/me` would with the new token (`person`)."""
        tokens = staff_sessions.refresh(deps(), body["refresh_token"])
        assert tokens.principal is not None
        return {**vars(tokens), "person": users.whoami(deps(), tokens.principal)}


@blp.route("/sign-out")
class SignOut(View):
    @blp.doc(**PUBLIC)
    @blp.arguments(TokenRefreshSchema)
    @blp.response(204)
    def post(self, body):
        """End the session: its tokens are refused everywhere within seconds."""
        staff_sessions.sign_out(deps(), body["refresh_token"])


@blp.route("/invitation")
class Invitation(View):
    @blp.doc(**PUBLIC)
    @blp.arguments(InvitationAcceptSchema)
    @blp.response(200, AccountSchema)
    @blp.alt_response(404, description="The link has expired or was used already")
    def post(self, body):
        """Accept an invitation: set a first password (then sign in)."""
        return account_links.accept_invitation(
            deps(), body["token"], body["password"], client_address()
        )


@blp.route("/password-reset")
class PasswordReset(View):
    @blp.doc(**PUBLIC)
    @blp.arguments(PasswordResetCreateSchema)
    @blp.response(202)
    def post(self, body):
        """Ask for a password-reset email (a single-use link, 1 hour). Always 202."""
        account_links.request_password_reset(
            deps(), body["clinic"], body["email"], client_address()
        )
        return Response(status=202)


@blp.route("/password-reset/complete")
class PasswordResetCompletion(View):
    @blp.doc(**PUBLIC)
    @blp.arguments(PasswordResetCompleteSchema)
    @blp.response(200, AccountSchema)
    @blp.alt_response(404, description="The link has expired or was used already")
    def post(self, body):
        """Set a new password through the reset link; every earlier session of the user ends."""
        return account_links.complete_password_reset(
            deps(), body["token"], body["password"], client_address()
        )


@blp.route("/me")
class Me(View):
    @requires_person
    @blp.response(200, MeSchema)
    def get(self):
        """The signed-in person (also while they must still enrol a second factor), with their
        clinic as they may see it: its name, idle timeout, and their locations' time zones."""
        return users.whoami(deps(), principal())


@blp.route("/totp")
class Totp(View):
    @requires_person
    @blp.response(201, TotpSchema)
    def post(self):
        """Start enrolling a second factor: a new TOTP secret for an authenticator app."""
        return second_factor.start_enrolment(deps(), principal())


@blp.route("/totp/confirm")
class TotpConfirmation(View):
    @requires_person
    @blp.arguments(TotpConfirmSchema)
    @blp.response(200, RecoveryCodesSchema)
    def post(self, body):
        """Confirm the enrolment with a current code: answers ten recovery codes, once. Refresh
        the token afterwards for full access."""
        return second_factor.confirm_enrolment(deps(), principal(), body["code"])
