"""Page 1: signing in (clinic, email, password), the second factor, enrolling one (admins must),
staying signed in when the idle warning asks, and signing out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from services.console.api_clients import ApiError
from services.console.web.forms import FORM, field_errors, typed
from services.console.web.signed_in import (
    CHALLENGE,
    TOKENS,
    apis,
    end_session,
    person,
    refresh_tokens,
    safe_next,
    signed_in,
    start_session,
)

blp = Blueprint("sign_in", __name__)
HOME = "inbox.inbox"
SIGN_IN_FIELDS = ("clinic", "email", "password")
WRONG_CODE = "That code is not right, or it was used already. Try the current one."


def _home(target: str | None = None):
    return redirect(safe_next(target) or url_for(HOME))


def _refused(error: ApiError, fields: tuple[str, ...]) -> dict[str, list[str]]:
    if error.kind == "limited":
        wait = error.retry_after_s or 60
        return {FORM: [f"Too many attempts from here. Wait {wait} seconds and try again."]}
    if error.kind in ("signed_out", "not_found"):
        return {FORM: [error.message]}
    if error.kind == "invalid":
        return field_errors(error, fields)
    raise error


@blp.get("/sign-in")
def form():
    if isinstance(session.get(TOKENS), dict):
        return _home(request.args.get("next"))
    values = {k: request.args.get(k, "") for k in ("clinic", "email")}
    return render_template(
        "sign_in/sign_in.html", values=values, errors={}, next=request.args.get("next")
    )


@blp.post("/sign-in")
def sign_in():
    posted, target = request.form, safe_next(request.form.get("next"))
    try:
        answer = apis().intake.sign_in(
            posted.get("clinic", "").strip(),
            posted.get("email", "").strip(),
            posted.get("password", ""),
        )
    except ApiError as error:
        errors = _refused(error, SIGN_IN_FIELDS)
        page = render_template("sign_in/sign_in.html", values=typed(), errors=errors, next=target)
        return page, 401 if error.kind == "signed_out" else 422
    if answer["status"] == "second_factor_required":
        session.clear()
        session[CHALLENGE] = {"challenge": answer["challenge"], "next": target}
        return redirect(url_for("sign_in.second_factor_form"))
    start_session(answer)
    flash("You are signed in.", "success")
    return _home(target)


@blp.get("/sign-in/second-factor")
def second_factor_form():
    if not isinstance(session.get(CHALLENGE), dict):
        return redirect(url_for("sign_in.form"))
    return render_template("sign_in/second_factor.html", errors={})


@blp.post("/sign-in/second-factor")
def second_factor():
    pending = session.get(CHALLENGE)
    if not isinstance(pending, dict):
        flash("Sign in first: the code comes after your password.", "notice")
        return redirect(url_for("sign_in.form"))
    code = request.form.get("code", "").replace(" ", "") or None
    recovery = request.form.get("recovery_code", "").strip() or None
    try:
        answer = apis().intake.second_factor(
            pending["challenge"], code=None if recovery else code, recovery_code=recovery
        )
    except ApiError as error:
        if error.kind == "signed_out":
            return render_template("sign_in/second_factor.html", errors={"code": [WRONG_CODE]}), 401
        errors = _refused(error, ("code", "recovery_code"))
        return render_template("sign_in/second_factor.html", errors=errors), 422
    start_session(answer)
    flash("You are signed in.", "success")
    return _home(pending.get("next"))


@blp.post("/sign-out")
def sign_out():
    tokens = session.get(TOKENS)
    end_session()
    if isinstance(tokens, dict):
        try:
            apis().intake.sign_out(tokens["refresh"])
        except ApiError as error:
            if error.kind == "unavailable":
                flash(
                    "You are signed out of this browser; the clinic's services did not answer, "
                    "so the session ends on its own after the idle timeout.",
                    "notice",
                )
                return redirect(url_for("sign_in.form"))
    flash("You are signed out.", "success")
    return redirect(url_for("sign_in.form"))


@blp.post("/stay-signed-in")
@signed_in
def stay():
    """The idle warning's button: renew the session now, and go back to the page."""
    refresh_tokens(force=True)
    flash("You are still signed in.", "success")
    return _home(request.form.get("next"))


@blp.route("/second-factor/enrol", methods=["GET", "POST"])
@signed_in
def enrol():
    """Enrol an authenticator app (admins must before anything else; anyone may)."""
    if request.method == "GET":
        return render_template("sign_in/enrol.html", started=None, errors={})
    if request.form.get("step") != "confirm":
        started = apis().intake.http.post("/auth/totp")
        return render_template("sign_in/enrol.html", started=started, errors={})
    started = {"secret": request.form.get("secret", ""), "otpauth_uri": ""}
    try:
        codes = apis().intake.http.post(
            "/auth/totp/confirm", {"code": request.form.get("code", "")}
        )
    except ApiError as error:
        if error.kind not in ("invalid", "conflict"):
            raise
        errors = field_errors(error, ("code",))
        return render_template("sign_in/enrol.html", started=started, errors=errors), 422
    refresh_tokens(force=True)
    flash(f"Your authenticator app is set up, {person().name}.", "success")
    return render_template("sign_in/recovery_codes.html", codes=codes["recovery_codes"])
