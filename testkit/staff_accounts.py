"""Staff accounts over HTTP, as the console (or a person with curl) uses them: accept an
invitation from its email, sign in (with TOTP where asked), refresh. For the end-to-end tests,
the benchmark and the demo."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyotp
import requests

from testkit.errors import StepFailed
from testkit.smtp import Mail
from testkit.staff import StaffClient

LINK = re.compile(r"/(invitation|password-reset)/([A-Za-z0-9._-]+)")


def link_token(mail: Mail) -> str:
    """The token of the invitation or reset link in an email."""
    found = LINK.search(mail.text)
    if found is None:
        raise StepFailed(f"no account link in the email {mail.subject!r}")
    return found[2]


@dataclass
class SignedIn:
    tokens: dict[str, Any]

    @property
    def access_token(self) -> str:
        return self.tokens["access_token"]

    def client(self, urls: dict[str, str], who: str = "staff") -> StaffClient:
        """The three APIs as this person (their current access token)."""
        return StaffClient(urls, self.access_token, who)


class StaffAccounts:
    def __init__(self, intake_url: str) -> None:
        self.url = intake_url
        self.session = requests.Session()

    def _post(self, path: str, body: dict[str, Any], expect: int = 200) -> Any:
        answer = self.session.post(f"{self.url}{path}", json=body, timeout=30)
        if answer.status_code != expect:
            raise StepFailed(f"POST {path} -> {answer.status_code}: {answer.text[:500]}")
        return answer.json() if answer.content else None

    def accept_invitation(self, token: str, password: str) -> dict[str, Any]:
        return self._post("/auth/invitation", {"token": token, "password": password})

    def sign_in(
        self, clinic: str, email: str, password: str, totp_secret: str | None = None
    ) -> SignedIn:
        answer = self._post(
            "/auth/sign-in", {"clinic": clinic, "email": email, "password": password}
        )
        if answer["status"] == "second_factor_required":
            if totp_secret is None:
                raise StepFailed(f"{email} must give a second factor")
            code = pyotp.TOTP(totp_secret).now()
            answer = self._post(
                "/auth/sign-in/second-factor", {"challenge": answer["challenge"], "code": code}
            )
        return SignedIn(answer)

    def enrol_totp(self, signed_in: SignedIn) -> tuple[str, SignedIn]:
        """Enrol a second factor for the signed-in person: its secret, and their full session."""
        headers = {"Authorization": f"Bearer {signed_in.access_token}"}
        started = self.session.post(f"{self.url}/auth/totp", headers=headers, timeout=30)
        if started.status_code != 201:
            raise StepFailed(f"POST /auth/totp -> {started.status_code}: {started.text[:300]}")
        secret = started.json()["secret"]
        code = pyotp.TOTP(secret).now()
        confirmed = self.session.post(
            f"{self.url}/auth/totp/confirm", json={"code": code}, headers=headers, timeout=30
        )
        if confirmed.status_code != 200:
            raise StepFailed(
                f"POST /auth/totp/confirm -> {confirmed.status_code}: {confirmed.text[:300]}"
            )
        self.recovery_codes: list[str] = confirmed.json()["recovery_codes"]
        return secret, self.refresh(signed_in)

    def refresh(self, signed_in: SignedIn) -> SignedIn:
        return SignedIn(
            self._post("/auth/refresh", {"refresh_token": signed_in.tokens["refresh_token"]})
        )


@dataclass
class Member:
    """A staff member with a password (and, for an admin, a second factor)."""

    name: str
    email: str
    role: str
    password: str
    totp_secret: str | None = None
    recovery_codes: list[str] | None = None
    signed_in: SignedIn | None = None


@dataclass
class StaffedClinic:
    """A clinic made through the public interfaces: ops make it and its first admin (the CLI),
    the admin sets a password and a second factor, and invites a front desk and a therapist
    (limited to the second location) who set theirs. Nobody's email is needed: each
    invitation's link is in the answer that made it."""

    tenant_id: str
    locations: list[str]
    admin: Member
    front_desk: Member
    therapist: Member


def staffed_clinic(
    ops: Any,
    intake_url: str,
    tenant_id: str,
    *,
    name: str = "Northside Massage",
    locations: tuple[str, ...] = ("Main:America/New_York", "Lakeside:America/Chicago"),
    password: str = "granite-orchard-listens-7",
    rooms: tuple[str, ...] = ("1", "2", "3", "4"),
) -> StaffedClinic:
    """`ops` is an `OpsCli` with intake's environment. Each location gets `rooms` (named as
    their ids), by the admin: a session books one of them."""
    made = ops("create-tenant", "--name", name, "--id", tenant_id,
               *[a for loc in locations for a in ("--location", loc)])  # fmt: skip
    location_ids = [loc["location_id"] for loc in made["locations"]]
    accounts = StaffAccounts(intake_url)
    admin = Member("Dana Admin", f"dana@{tenant_id}.example", "admin", password)
    printed = ops(
        "create-admin", "--tenant", tenant_id, "--name", admin.name, "--email", admin.email
    )
    accounts.accept_invitation(printed["invitation_link"].rsplit("/", 1)[1], password)
    enrolling = accounts.sign_in(tenant_id, admin.email, password)
    admin.totp_secret, admin.signed_in = accounts.enrol_totp(enrolling)
    admin.recovery_codes = accounts.recovery_codes
    for location in made["locations"]:
        answer = accounts.session.put(
            f"{intake_url}/admin/locations/{location['location_id']}",
            json={"name": location["name"], "timezone": location["timezone"],
                  "address": location.get("address"), "rooms": [{"name": r} for r in rooms]},
            headers={"Authorization": f"Bearer {admin.signed_in.access_token}"},
            timeout=30,
        )  # fmt: skip
        if answer.status_code != 200:
            raise StepFailed(
                f"the rooms of {location['name']}: {answer.status_code} {answer.text[:300]}"
            )
    members = {}
    for role, person, limited in (
        ("front_desk", "Fran Desk", False),
        ("therapist", "Sam Ortiz", True),
    ):
        member = Member(person, f"{role.replace('_', '.')}@{tenant_id}.example", role, password)
        answer = accounts.session.post(
            f"{intake_url}/admin/users",
            json={"name": person, "email": member.email, "role": role,
                  "locations": [location_ids[-1]] if limited else None},
            headers={"Authorization": f"Bearer {admin.signed_in.access_token}"},
            timeout=30,
        )  # fmt: skip
        if answer.status_code != 201:
            raise StepFailed(f"inviting {person}: {answer.status_code} {answer.text[:300]}")
        accounts.accept_invitation(answer.json()["invitation_link"].rsplit("/", 1)[1], password)
        member.signed_in = accounts.sign_in(tenant_id, member.email, password)
        members[role] = member
    return StaffedClinic(
        tenant_id, location_ids, admin, members["front_desk"], members["therapist"]
    )
