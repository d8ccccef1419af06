"""The console app (in this process, Flask's test client) against the three APIs as real
processes: one stack and one staffed clinic per module (the stand-in store is slow to fill)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from services.console.app import create_app
from services.console.web.signed_in import TOKENS
from testkit.referrals import native_referral
from testkit.smtp import SmtpInbox
from testkit.stack import LocalStack, own_stack
from testkit.staff import StaffClient
from testkit.staff_accounts import StaffedClinic, staffed_clinic

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_FAMILY = "{{7*7}}"
HOSTILE_NOTE = "<script>alert(2)</script> {{ 7*7 }} {% raw %}"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class World:
    stack: LocalStack
    clinic: StaffedClinic
    referrals: dict[str, str]  # what -> referral id
    inbox: SmtpInbox  # every email the stack sent

    def api(self, who: str) -> StaffClient:
        member = getattr(self.clinic, who)
        return member.signed_in.client(self.stack.urls, who)


@pytest.fixture(scope="module")
def world(mongo_url, rabbit_admin, tmp_path_factory) -> Iterator[World]:
    log_dir = tmp_path_factory.mktemp("console-stack")
    unlimited = {"SIGN_IN_RATE_LIMIT": "10000"}
    with own_stack(mongo_url, rabbit_admin, log_dir, unlimited) as (stack, inbox):
        clinic = staffed_clinic(stack.ops, stack.url("intake"), f"clinic-{stack.db_prefix[-6:]}")
        desk = clinic.front_desk.signed_in.client(stack.urls, "front desk")
        made = {
            "plain": desk.post("intake", "/referrals", native_referral(location_id="main")),
            "hostile": desk.post(
                "intake",
                "/referrals",
                native_referral(
                    location_id="lakeside",
                    patient={
                        **native_referral()["patient"],
                        "given_name": HOSTILE_NAME,
                        "family_name": HOSTILE_FAMILY,
                        "identifiers": [{"system": "urn:t", "value": "HOSTILE-1"}],
                    },
                    notes=[HOSTILE_NOTE],
                ),
            ),  # fmt: skip
            "held": desk.post(
                "intake",
                "/referrals",
                native_referral(location_id="main", authorized_visits=None),
            ),
        }
        yield World(stack, clinic, {k: v["referral_id"] for k, v in made.items()}, inbox)


def console_app(world: World, **overrides):
    urls = {f"{s}_api_url": world.stack.url(s) for s in ("intake", "planning", "notifications")}
    return create_app({**urls, "console_cookie_secure": False, **overrides})


@pytest.fixture(scope="module")
def app(world):
    return console_app(world)


class Browser:
    """A person's browser on the console app: its cookie, and the form token of the last page."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def get(self, path: str, **kwargs):
        answer = self.client.get(path, **kwargs)
        if found := TOKEN.search(answer.get_data(as_text=True)):
            self.token = found[1]
        return answer

    def post(self, path: str, data: dict | None = None, token: bool = True, **kwargs):
        body = {**(data or {}), **({"csrf_token": self.token} if token else {})}
        answer = self.client.post(path, data=body, **kwargs)
        if found := TOKEN.search(answer.get_data(as_text=True)):
            self.token = found[1]
        return answer

    def sign_in(self, clinic: StaffedClinic, who: str):
        member = getattr(clinic, who)
        self.get("/sign-in")
        form = {"clinic": clinic.tenant_id, "email": member.email, "password": member.password}
        answer = self.post("/sign-in", form)
        if answer.headers.get("Location", "").endswith("/sign-in/second-factor"):
            self.get("/sign-in/second-factor")
            # a TOTP code works once: the tests sign the admin in with recovery codes
            answer = self.post(
                "/sign-in/second-factor", {"recovery_code": member.recovery_codes.pop()}
            )
        assert answer.status_code == 302, answer.get_data(as_text=True)[-2000:]
        return answer


MOST_API_CALLS = 4
"""A page's API calls at most (docs/conventions.md, "The console"), whatever happens besides."""
SERVER_TIMING_CALLS = re.compile(r'api;dur=[\d.]+;desc="(\d+) calls"')


def calls_at_worst(app, person: Browser, path: str, status: int = 200) -> list[str]:
    """The API calls a page makes at worst, each asked twice: once with the person not kept
    (`/auth/me` is called), once with the tokens due for renewal too (`/auth/refresh`); the
    longer list, after checking that the page's `Server-Timing` counts the same calls."""
    deps = app.extensions["deps"]
    calls: list[str] = []
    hook = lambda response, *a, **k: calls.append(response.request.path_url)  # noqa: E731
    seen: list[list[str]] = []
    deps.http.hooks["response"].append(hook)
    try:
        for renew in (False, True):
            calls.clear()
            deps.people.forget()
            if renew:
                with person.client.session_transaction() as cookie:
                    cookie[TOKENS] = {**cookie[TOKENS], "refreshed_at": 0}
            answer = person.get(path)
            assert answer.status_code == status, (path, answer.status_code)
            assert ("/auth/refresh" in calls) is renew, (path, calls)
            timing = SERVER_TIMING_CALLS.search(answer.headers["Server-Timing"])
            assert timing is not None and int(timing[1]) == len(calls), (path, calls, timing)
            seen.append(list(calls))
    finally:
        deps.http.hooks["response"].remove(hook)
    return max(seen, key=len)


@pytest.fixture
def browser(app) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def signed_in(app, world):
    def sign_in(who: str) -> Browser:
        person = Browser(app.test_client())
        person.sign_in(world.clinic, who)
        return person

    return sign_in
