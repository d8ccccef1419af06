"""Page 1's links by email: asking for a password reset, and the two single-use links that set
a password (an invitation's, `/invitation/<token>`, and a reset's, `/password-reset/<token>`);
then the person signs in with it. Intake decides everything (the link, the password rules)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.console.api_clients import ApiError
from services.console.web.forms import FORM, field_errors, typed
from services.console.web.signed_in import apis

blp = Blueprint("account_links", __name__)
PASSWORDS_DIFFER = "The two passwords are not the same."
RESET_ASKED = (
    "If {email} has an account at this clinic, an email with a link to set a new password is on "
    "its way. The link works once, for an hour."
)
PASSWORD_HINT = "At least 12 characters; not a common password. A few unrelated words work well."


@blp.get("/password-reset")
def reset_form():
    return render_template("sign_in/reset_request.html", values={}, errors={})


@blp.post("/password-reset")
def ask_for_reset():
    clinic, email = request.form.get("clinic", "").strip(), request.form.get("email", "").strip()
    try:
        apis().intake.request_password_reset(clinic, email)
    except ApiError as error:
        if error.kind == "unavailable":
            raise
        if error.kind == "limited":
            errors = {FORM: ["Too many attempts from here. Wait a minute and try again."]}
        else:
            errors = field_errors(error, ("clinic", "email"))
        return render_template("sign_in/reset_request.html", values=typed(), errors=errors), 422
    flash(RESET_ASKED.format(email=email), "success")
    return redirect(url_for("sign_in.form", clinic=clinic))


def _set_password_page(kind: str, token: str, errors: dict, status: int = 200):
    page = render_template(
        "sign_in/set_password.html", kind=kind, token=token, errors=errors, hint=PASSWORD_HINT
    )
    return page, status


def _set_password(kind: str, token: str):
    password, again = request.form.get("password", ""), request.form.get("password_again", "")
    if password != again:
        return _set_password_page(kind, token, {"password_again": [PASSWORDS_DIFFER]}, 422)
    intake = apis().intake
    try:
        if kind == "invitation":
            account = intake.accept_invitation(token, password)
        else:
            account = intake.complete_password_reset(token, password)
    except ApiError as error:
        if error.kind == "unavailable":
            raise
        if error.kind == "not_found":
            return _set_password_page(kind, token, {FORM: [error.message]}, 404)
        if error.kind == "limited":
            errors = {FORM: ["Too many attempts from here. Wait a minute and try again."]}
            return _set_password_page(kind, token, errors, 429)
        return _set_password_page(kind, token, field_errors(error, ("password",)), 422)
    welcome = f"Welcome, {account['name']}. " if kind == "invitation" else ""
    flash(f"{welcome}Your password is set: sign in with it.", "success")
    return redirect(url_for("sign_in.form", clinic=account["tenant_id"], email=account["email"]))


@blp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    if request.method == "POST":
        return _set_password("invitation", token)
    return _set_password_page("invitation", token, {})


@blp.route("/password-reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    if request.method == "POST":
        return _set_password("reset", token)
    return _set_password_page("reset", token, {})
