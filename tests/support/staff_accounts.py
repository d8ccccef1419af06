"""Staff accounts for tests: invite through the use case, accept through the API, sign in.

`StaffAccounts` drives one intake app (a Flask test client) as a person would, with a clock the
test can move (`Clock`), so expiry and idle timeouts are checked without waiting.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from services.intake.usecases import users

PASSWORD = "lantern-harbor-quietly-9"


class Clock:
    """A clock the test moves (`advance`); starts two minutes before the real time, so that
    tokens issued after a few steps forward are not from the future for the verifier (which
    reads the real clock)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) - timedelta(minutes=2)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Person:
    user_id: str
    tenant_id: str
    email: str
    password: str = PASSWORD

    def credentials(self, **changes: str) -> dict[str, str]:
        return {"clinic": self.tenant_id, "email": self.email, "password": self.password} | changes


class StaffAccounts:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.clock = Clock()
        app.extensions["deps"] = dataclasses.replace(app.extensions["deps"], clock=self.clock)
        self.client = app.test_client()

    @property
    def deps(self) -> Any:
        return self.app.extensions["deps"]

    def invite(
        self,
        tenant_id: str,
        email: str,
        role: str = "therapist",
        locations: list[str] | None = None,
    ) -> tuple[dict[str, Any], str]:
        """The invited user and their invitation token (the link's last part)."""
        user, link = users.invite_user(
            self.deps, tenant_id, name=f"{role.title()} Tester", email=email, role=role,
            locations=locations, invited_by="ops",
        )  # fmt: skip
        return user, link.rsplit("/", 1)[1]

    def person(
        self,
        tenant_id: str,
        email: str,
        role: str = "therapist",
        locations: list[str] | None = None,
    ) -> Person:
        """An active user (invited, password set through the link)."""
        user, token = self.invite(tenant_id, email, role, locations)
        answer = self.client.post("/auth/invitation", json={"token": token, "password": PASSWORD})
        assert answer.status_code == 200, answer.json
        return Person(user["_id"], tenant_id, email)

    def sign_in(self, person: Person, **changes: str) -> Any:
        return self.client.post("/auth/sign-in", json=person.credentials(**changes))

    def tokens(self, person: Person) -> dict[str, Any]:
        """Signed in (no second factor): the answer with its tokens."""
        answer = self.sign_in(person)
        assert answer.status_code == 200 and answer.json["status"] == "signed_in", answer.json
        return answer.json


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
