"""The plain pages the patient gets instead of the form, and the headers every page carries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    status: int
    title: str
    what_to_do: str


PROBLEMS: dict[str, Problem] = {
    "invalid": Problem(
        404,
        "This link does not work",
        "It may have been copied only in part, or replaced by a newer link. Please use the link "
        "in the most recent email from your clinic, or contact the clinic for a new one.",
    ),
    "expired": Problem(
        410,
        "This link has expired",
        "To protect your privacy, form links work for a limited time. "
        "Please contact your clinic and ask for a new link.",
    ),
    "closed": Problem(
        410,
        "This form is no longer needed",
        "Your clinic has closed this referral. If you think this is a mistake, "
        "please contact the clinic.",
    ),
    "used": Problem(
        409,
        "This form has already been sent",
        "Your clinic has your health history. If something has changed, please tell the clinic "
        "by phone or at your next visit.",
    ),
    "forged": Problem(
        403,
        "This form could not be sent",
        "For your security, the form must be sent from the page your clinic's link opens. "
        "Please open the link in your email again and fill in the form there.",
    ),
    "too_large": Problem(
        413,
        "This form is too long to send",
        "Please shorten your longer answers and try again, or contact your clinic.",
    ),
    "unavailable": Problem(
        503,
        "The form cannot be reached right now",
        "Nothing was lost or sent: our system is briefly unavailable. Please go back, check "
        "your answers are still there, and send the form again in a few minutes.",
    ),
}

SECURITY_HEADERS = {
    # No script at all; styles and the form post only to this site; never framed.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    # The link token is in the URL: never send it to another site (same-origin keeps the
    # `Origin` header of the form's own post, which the forgery check reads).
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
