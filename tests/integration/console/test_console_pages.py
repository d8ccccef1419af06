"""The console's pages against the real APIs: every page carries the strict CSP and the usual
headers; a state-changing request without the session's form token, or from another site, is
refused before anything happens; hostile names and notes are shown as text; a role is not
offered what it may not do (and refused if it asks); forms keep what was typed and show the
APIs' field errors next to their fields; a page makes at most 4 API calls; an API away is the
503 page, never a stack trace."""

from __future__ import annotations

import html
import re

import pytest

from services.console.web.security_headers import CONTENT_SECURITY_POLICY
from testkit.waiting import wait_until
from tests.integration.console.conftest import (
    HOSTILE_FAMILY,
    HOSTILE_NAME,
    HOSTILE_NOTE,
    MOST_API_CALLS,
    Browser,
    calls_at_worst,
    console_app,
)

SIGNED_OUT_PAGES = ["/sign-in", "/password-reset", "/invitation/abc", "/password-reset/abc"]


def page(answer) -> str:
    return answer.get_data(as_text=True)


def assert_secured(answer) -> None:
    headers = answer.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert (
        "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe" not in CONTENT_SECURITY_POLICY
    )
    assert (headers["X-Frame-Options"], headers["X-Content-Type-Options"]) == ("DENY", "nosniff")
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    assert "<script>" not in page(answer)  # no inline script: only <script src=...>


def test_every_page_carries_the_strict_content_security_policy(world, browser, signed_in):
    for path in SIGNED_OUT_PAGES:
        assert_secured(browser.get(path))
    desk = signed_in("front_desk")
    paths = ["/referrals", *(f"/referrals/{r}" for r in world.referrals.values()),
             "/coming/patients", "/referrals?tab=needs_review", "/nowhere"]  # fmt: skip
    for path in paths:
        answer = desk.get(path)
        assert answer.status_code in (200, 404), (path, answer.status_code)
        assert_secured(answer)
    cookie = desk.client.get_cookie("console")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_the_cookie_is_secure_outside_local_development(world):
    answer = console_app(world, console_cookie_secure=True).test_client().get("/sign-in")
    assert "Secure" in answer.headers["Set-Cookie"] and "HttpOnly" in answer.headers["Set-Cookie"]


def test_the_cookie_holds_nothing_a_person_could_read(world, signed_in):
    desk = signed_in("front_desk")
    sealed = desk.client.get_cookie("console").value
    assert world.clinic.front_desk.email not in sealed and "eyJ" not in sealed  # no JWT in sight


def test_a_post_without_the_form_token_or_from_elsewhere_is_refused_and_changes_nothing(
    world, signed_in
):
    desk = signed_in("front_desk")
    referral_id = world.referrals["plain"]
    desk.get(f"/referrals/{referral_id}")
    cancel = f"/referrals/{referral_id}/cancel"
    without = desk.post(cancel, {"reason": "forged"}, token=False)
    wrong = desk.client.post(cancel, data={"reason": "forged", "csrf_token": "x" * 43})
    elsewhere = desk.post(cancel, {"reason": "forged"}, headers={"Origin": "https://evil.example"})
    for refused in (without, wrong, elsewhere):
        assert refused.status_code == 403 and "was not sent from the console" in page(refused)
    assert (
        world.api("front_desk").get("intake", f"/referrals/{referral_id}")["status"] == "accepted"
    )
    signed_out = Browser(desk.client.application.test_client())
    sign_in = signed_out.post(
        "/sign-in", {"clinic": "x", "email": "y", "password": "z"}, token=False
    )
    assert sign_in.status_code == 403


@pytest.mark.parametrize("path", ["/referrals", "/referrals?tab=accepted&location=lakeside"])
def test_hostile_content_in_the_inbox_is_shown_as_text(world, signed_in, path):
    body = page(signed_in("front_desk").get(path))
    shown = f"{html.escape(HOSTILE_NAME, quote=False)} {HOSTILE_FAMILY}"  # as text, not evaluated
    assert shown in body and HOSTILE_NAME not in body and " 49<" not in body


def test_hostile_content_on_the_referral_page_is_shown_as_text(world, signed_in):
    body = page(signed_in("admin").get(f"/referrals/{world.referrals['hostile']}"))
    assert html.escape(HOSTILE_NAME, quote=False) in body and "<img src=x" not in body
    assert html.escape(HOSTILE_NOTE, quote=False) in body and "<script>alert" not in body
    assert HOSTILE_FAMILY in body and "{{ 7*7 }}" in body


def test_a_therapist_is_not_offered_what_the_role_may_not_do_and_is_refused_if_asking(
    world, signed_in
):
    therapist = signed_in("therapist")
    referral_id = world.referrals["hostile"]  # at lakeside, the therapist's location
    body = page(therapist.get(f"/referrals/{referral_id}"))
    assert "Cancel the referral" not in body and "Clinic settings" not in body
    assert "Referrals" in body and "Calendar" in body
    refused = therapist.post(f"/referrals/{referral_id}/cancel", {"reason": "not mine"})
    assert refused.status_code == 403
    assert world.api("admin").get("intake", f"/referrals/{referral_id}")["status"] == "accepted"
    elsewhere = therapist.get(f"/referrals/{world.referrals['plain']}")  # at main: not theirs
    assert elsewhere.status_code == 404
    desk_body = page(signed_in("front_desk").get(f"/referrals/{referral_id}"))
    assert "Cancel the referral" in desk_body and "Clinic settings" not in desk_body
    assert "Clinic settings" in page(signed_in("admin").get("/referrals"))


def test_sign_in_keeps_what_was_typed_and_shows_each_error_next_to_its_field(world, browser):
    browser.get("/sign-in")
    wrong = browser.post(
        "/sign-in",
        {"clinic": world.clinic.tenant_id, "email": world.clinic.front_desk.email,
         "password": "not-the-password-at-all"},
    )  # fmt: skip
    assert wrong.status_code == 401
    assert f'value="{world.clinic.front_desk.email}"' in page(wrong)
    assert 'role="alert"' in page(wrong) and "not-the-password" not in page(wrong)
    empty = browser.post(
        "/sign-in", {"clinic": world.clinic.tenant_id, "email": "", "password": ""}
    )
    assert empty.status_code == 422
    assert 'id="f-email-error"' in page(empty) and 'aria-invalid="true"' in page(empty)
    assert f'value="{world.clinic.tenant_id}"' in page(empty)


def test_a_held_referral_is_settled_on_its_page_with_errors_next_to_the_field(world, signed_in):
    desk = signed_in("front_desk")
    referral_id = world.referrals["held"]
    shown = page(desk.get(f"/referrals/{referral_id}"))
    assert "Visits authorized" in shown and "Needs review" in shown
    version = world.api("front_desk").get("intake", f"/referrals/{referral_id}")["version"]
    bad = desk.post(
        f"/referrals/{referral_id}/review", {"version": version, "authorized_visits": "lots"}
    )
    assert bad.status_code == 422
    assert 'id="f-authorized_visits-error"' in page(bad) and 'value="lots"' in page(bad)
    stale = desk.post(
        f"/referrals/{referral_id}/review", {"version": version + 5, "authorized_visits": "6"}
    )
    assert stale.status_code == 409
    done = desk.post(
        f"/referrals/{referral_id}/review", {"version": version, "authorized_visits": "6"}
    )
    assert done.status_code == 302
    after = page(desk.get(done.headers["Location"]))
    assert "accepted" in after and "6 authorized, 0 used, 6 remaining" in after
    assert (
        world.api("front_desk").get("intake", f"/referrals/{referral_id}")["status"] == "accepted"
    )


def test_a_page_makes_at_most_four_api_calls_whatever_the_rows(world, app, signed_in):
    desk = signed_in("front_desk")
    for path in ["/referrals", "/referrals?tab=accepted",
                 *(f"/referrals/{r}" for r in world.referrals.values())]:  # fmt: skip
        calls = calls_at_worst(app, desk, path)
        assert len(calls) <= MOST_API_CALLS, (path, calls)


def test_each_page_reports_its_server_time_and_its_api_calls(world, app, signed_in):
    desk = signed_in("front_desk")
    calls: list[str] = []
    hook = lambda response, *a, **k: calls.append(response.request.path_url)  # noqa: E731
    app.extensions["deps"].http.hooks["response"].append(hook)
    try:
        app.extensions["deps"].people.forget()
        answer = desk.get("/referrals")
    finally:
        app.extensions["deps"].http.hooks["response"].remove(hook)
    timing = dict(part.strip().split(";", 1) for part in answer.headers["Server-Timing"].split(","))
    assert f'desc="{len(calls)} calls"' in timing["api"] and len(calls) >= 1
    page_ms = float(timing["app"].removeprefix("dur="))
    api_ms = float(timing["api"].split(";")[0].removeprefix("dur="))
    assert 0 < api_ms <= page_ms


def test_an_api_that_does_not_answer_is_the_503_page_never_a_stack_trace(world):
    away = console_app(world, planning_api_url="http://127.0.0.1:9", console_api_timeout_s=2)
    person = Browser(away.test_client())
    person.sign_in(world.clinic, "front_desk")
    answer = person.get(f"/referrals/{world.referrals['plain']}")  # its plan is in planning
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert "not answering" in page(answer) and "Traceback" not in page(answer)
    assert answer.headers["X-Request-ID"] in page(answer)


def test_after_signing_out_the_old_cookie_opens_nothing(world, app, signed_in):
    desk = signed_in("front_desk")
    kept = desk.client.get_cookie("console").value
    desk.get("/referrals")
    out = desk.post("/sign-out")
    assert out.status_code == 302 and "You are signed out" in page(desk.get("/sign-in"))
    replay = app.test_client()
    replay.set_cookie("console", kept)

    def refused() -> bool:  # intake refuses an ended session's tokens within seconds
        app.extensions["deps"].people.forget()
        again = replay.get("/referrals")
        return again.status_code == 302 and "/sign-in" in again.headers["Location"]

    wait_until(refused, timeout=10, message="the signed-out session's cookie to be refused")


def test_a_page_carries_when_the_session_ends_and_staying_signed_in_renews_it(world, signed_in):
    """The idle warning's script counts from what the page says (no inline script: its own
    file); its button is a form post that renews the session through intake."""
    desk = signed_in("front_desk")
    body = page(desk.get("/referrals"))
    ends_in = int(re.search(r'data-session-ends-in="(\d+)"', body)[1])
    assert 15 * 60 - 90 <= ends_in <= 15 * 60 and 'data-warn-before="120"' in body
    assert '<script src="/static/idle_warning.js" defer></script>' in body
    stayed = desk.post("/stay-signed-in", {"next": "/referrals?tab=accepted"})
    assert stayed.status_code == 302 and stayed.headers["Location"] == "/referrals?tab=accepted"
    assert "You are still signed in" in page(desk.get("/referrals?tab=accepted"))
    away = desk.post("/stay-signed-in", {"next": "https://evil.example/"})
    assert away.headers["Location"] == "/referrals"  # only back to a page of the console
