"""Issue 13's acceptance, through public interfaces only, against the six real processes: ops
make a clinic and its first admin (the CLI prints the invitation link, notifications emails
it); the admin sets a password, enrols a second factor and invites a therapist over the API; the
invitation email arrives at the SMTP server; the therapist sets a password from its link, signs
in, and calls planning (and intake and notifications) with the access token; the admin disables
them, and every API refuses the token within seconds (each service's time is printed)."""

from __future__ import annotations

import threading
import time
import uuid

from testkit.staff import bearer
from testkit.staff_accounts import StaffAccounts, link_token
from testkit.waiting import wait_until

ADMIN_PASSWORD = "granite-orchard-listens-7"
THERAPIST_PASSWORD = "violet-harbour-counts-31"
PROBES = {"intake": "/referrals", "planning": "/plans", "notifications": "/deliveries"}
REFUSED_WITHIN_S = 10.0


def refusal_times(urls: dict[str, str], token: str, since: float) -> dict[str, float]:
    """Seconds from `since` until each API first refuses `token` (probing all at once)."""
    found: dict[str, float] = {}

    def probe(service: str) -> None:
        import requests  # one session per thread

        session = requests.Session()
        url = f"{urls[service]}{PROBES[service]}"
        wait_until(
            lambda: session.get(url, headers=bearer(token), timeout=5).status_code == 401,
            timeout=REFUSED_WITHIN_S + 20,
            interval=0.05,
            message=f"{service} to refuse the disabled user's token",
        )
        found[service] = round(time.monotonic() - since, 2)

    threads = [threading.Thread(target=probe, args=(s,)) for s in PROBES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return found


def test_a_therapist_invited_by_email_signs_in_calls_planning_and_is_refused_everywhere_once_disabled(
    system,
):
    stack, inbox = system
    tenant_id = f"northside-{uuid.uuid4().hex[:6]}"
    stack.ops(
        "create-tenant", "--name", "Northside Massage", "--id", tenant_id,
        "--location", "Main:America/New_York",
    )  # fmt: skip
    admin_email, therapist_email = f"dana@{tenant_id}.example", f"sam@{tenant_id}.example"
    printed = stack.ops(
        "create-admin", "--tenant", tenant_id, "--name", "Dana Admin", "--email", admin_email
    )
    accounts = StaffAccounts(stack.url("intake"))

    [admin_mail] = wait_until(
        lambda: inbox.to(admin_email), timeout=60, message="the admin's email"
    )
    assert link_token(admin_mail) == printed["invitation_link"].rsplit("/", 1)[1]
    accounts.accept_invitation(link_token(admin_mail), ADMIN_PASSWORD)
    enrolling = accounts.sign_in(tenant_id, admin_email, ADMIN_PASSWORD)
    assert enrolling.tokens["scope"] == "enrol_totp"  # admins must have a second factor
    _, admin = accounts.enrol_totp(enrolling)
    assert admin.tokens["scope"] == "all"
    admin_api = admin.client(stack.urls, "admin")

    invited = admin_api.post(
        "intake", "/admin/users",
        {"name": "Sam Ortiz", "email": therapist_email, "role": "therapist", "locations": None},
    )  # fmt: skip
    [mail] = wait_until(
        lambda: inbox.to(therapist_email), timeout=60, message="the therapist's invitation email"
    )
    assert "Northside Massage" in mail.subject and "/invitation/" in mail.text
    assert (
        accounts.accept_invitation(link_token(mail), THERAPIST_PASSWORD)["email"] == therapist_email
    )

    therapist = accounts.sign_in(tenant_id, therapist_email, THERAPIST_PASSWORD)
    assert therapist.tokens["scope"] == "all"
    token = therapist.access_token
    api = therapist.client(stack.urls, "therapist")
    assert api.get("planning", "/plans")["total"] == 0
    for service, path in PROBES.items():
        assert api.status_of(service, path) == 200, service

    admin_api.post("intake", f"/admin/users/{invited['user_id']}/disable", {})
    times = refusal_times(stack.urls, token, since=time.monotonic())
    print(f"\nseconds from disabling the user to refusal: {times}")
    assert set(times) == set(PROBES) and max(times.values()) < REFUSED_WITHIN_S, times
    again = accounts.session.post(
        f"{stack.url('intake')}/auth/sign-in",
        json={"clinic": tenant_id, "email": therapist_email, "password": THERAPIST_PASSWORD},
        timeout=30,
    )
    assert again.status_code == 401
