"""Staff users managed by admins and ops, and the links they get: invitations (72 h) and password
resets (1 h), single-use; the events that email them; the OpenAPI document of it all."""

from __future__ import annotations

import json

import pytest

from services.intake import cli
from tests.support.staff_accounts import PASSWORD, StaffAccounts, bearer

NEW_PASSWORD = "copper-meadow-sings-42"
EXPIRED = "this link has expired or was used already: ask for a new one"


@pytest.fixture
def accounts(app, world):
    return StaffAccounts(app)


def events_of(world, type_: str) -> list[dict]:
    return [e for e in world.pending_events("users") if e["type"] == type_]


def token_of(event: dict) -> str:
    return event["data"]["link"].rsplit("/", 1)[1]


def test_an_admin_invites_a_user_who_is_emailed_a_link_to_the_console(accounts, world):
    admin_key = world.key("clinic-a", "admin")
    body = {"name": "Sam Ortiz", "email": "Sam@Clinic-A.example", "role": "therapist",
            "locations": ["main"]}  # fmt: skip
    made = accounts.client.post("/admin/users", json=body, headers=bearer(admin_key))
    assert made.status_code == 201, made.json
    user = made.json
    assert (user["email"], user["status"], user["totp_enrolled"]) == (
        "sam@clinic-a.example", "invited", False,
    )  # fmt: skip
    assert not {"password_hash", "link", "totp", "recovery_codes"} & set(user)
    [invited] = events_of(world, "user.invited")
    data = invited["data"]
    assert data["email"] == "sam@clinic-a.example" and data["tenant_name"] == "Clinic-A"
    assert data["link"] == user["invitation_link"]
    assert data["link"].startswith("http://127.0.0.1:8004/invitation/clinic-a.")
    stored = world.db.users.find_one({"_id": user["user_id"]})
    assert token_of(invited) not in json.dumps(stored["link"], default=str)  # only its hash
    listed = accounts.client.get("/admin/users?page_size=1", headers=bearer(admin_key)).json
    assert (listed["total"], listed["page_size"], listed["items"][0]["user_id"]) == (
        1, 1, user["user_id"],
    )  # fmt: skip
    assert world.audit(action="user.invite", outcome="ok")[0]["object"]["id"] == user["user_id"]


def test_an_invitation_body_may_not_set_what_only_the_service_decides(accounts, world):
    admin_key = world.key("clinic-a", "admin")
    base = {"name": "Sam", "email": "sam@clinic-a.example", "role": "therapist", "locations": None}
    for extra in ({"tenant_id": "clinic-b"}, {"status": "active"}, {"_id": "usr_x"},
                  {"password_hash": "x"}):  # fmt: skip
        answer = accounts.client.post("/admin/users", json=base | extra, headers=bearer(admin_key))
        assert answer.status_code == 422 and set(extra) <= set(answer.json["errors"]["json"])
    bad_location = base | {"locations": ["nowhere"]}
    answer = accounts.client.post("/admin/users", json=bad_location, headers=bearer(admin_key))
    assert answer.status_code == 422 and "locations" in answer.json["errors"]["json"]
    assert world.count("users") == 0


def test_one_email_has_one_account_per_clinic_and_may_have_one_at_each(accounts, world):
    body = {
        "name": "Sam",
        "email": "sam@two-clinics.example",
        "role": "therapist",
        "locations": None,
    }
    for tenant, expected in (("clinic-a", 201), ("clinic-a", 409), ("clinic-b", 201)):
        key = world.key(tenant, "admin")
        assert (
            accounts.client.post("/admin/users", json=body, headers=bearer(key)).status_code
            == expected
        )


def test_only_admins_manage_users(accounts, world):
    therapist = accounts.person("clinic-a", "sam@clinic-a.example")
    token = accounts.tokens(therapist)["access_token"]
    front_desk_key = world.key("clinic-a", "front_desk")
    for headers in (bearer(token), bearer(front_desk_key)):
        assert accounts.client.get("/admin/users", headers=headers).status_code == 403
        assert (
            accounts.client.post(f"/admin/users/{therapist.user_id}/disable", headers=headers)
            .status_code == 403
        )  # fmt: skip
    assert world.db.users.find_one({"_id": therapist.user_id})["status"] == "active"


def test_an_invitation_link_works_once(accounts, db):
    user, token = accounts.invite("clinic-a", "sam@clinic-a.example")
    body = {"token": token, "password": PASSWORD}
    assert accounts.client.post("/auth/invitation", json=body).status_code == 200
    again = accounts.client.post("/auth/invitation", json={**body, "password": NEW_PASSWORD})
    assert (again.status_code, again.json["message"]) == (404, EXPIRED)
    assert accounts.client.post("/auth/sign-in", json={
        "clinic": "clinic-a", "email": "sam@clinic-a.example", "password": NEW_PASSWORD,
    }).status_code == 401  # fmt: skip
    assert db.audit.count_documents({"action": "user.password_set"}) == 1


def test_an_invitation_link_does_not_work_after_72_hours_and_a_new_one_does(accounts, world):
    user, token = accounts.invite("clinic-a", "sam@clinic-a.example")
    accounts.clock.advance(hours=72, seconds=1)
    late = accounts.client.post("/auth/invitation", json={"token": token, "password": PASSWORD})
    assert (late.status_code, late.json["message"]) == (404, EXPIRED)
    assert world.db.users.find_one({"_id": user["_id"]})["status"] == "invited"
    admin_key = world.key("clinic-a", "admin")
    resent = accounts.client.post(
        f"/admin/users/{user['_id']}/invitation", headers=bearer(admin_key)
    )
    assert resent.status_code == 200
    fresh = token_of(events_of(world, "user.invited")[-1])
    assert fresh != token
    answer = accounts.client.post("/auth/invitation", json={"token": fresh, "password": PASSWORD})
    assert answer.status_code == 200


def test_a_forged_or_foreign_link_token_is_refused(accounts):
    user, token = accounts.invite("clinic-a", "sam@clinic-a.example")
    for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"),
                   token.replace("clinic-a.", "clinic-b.", 1), "garbage"):  # fmt: skip
        answer = accounts.client.post(
            "/auth/invitation", json={"token": forged, "password": PASSWORD}
        )
        assert answer.status_code == 404


def test_a_reset_link_works_once_and_ends_the_earlier_sessions(accounts, world):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    tokens = accounts.tokens(person)
    asked = accounts.client.post(
        "/auth/password-reset", json={"clinic": "clinic-a", "email": "SAM@clinic-a.example"}
    )
    assert asked.status_code == 202
    [reset] = events_of(world, "user.password_reset_requested")
    assert reset["data"]["link"].startswith("http://127.0.0.1:8004/password-reset/")
    token = token_of(reset)
    weak = accounts.client.post(
        "/auth/password-reset/complete", json={"token": token, "password": "password1234"}
    )
    assert weak.status_code == 422 and "password" in weak.json["errors"]["json"]
    done = accounts.client.post(
        "/auth/password-reset/complete", json={"token": token, "password": NEW_PASSWORD}
    )
    assert done.status_code == 200 and done.json["user_id"] == person.user_id
    again = accounts.client.post(
        "/auth/password-reset/complete", json={"token": token, "password": PASSWORD}
    )
    assert (again.status_code, again.json["message"]) == (404, EXPIRED)
    assert (
        accounts.client.post(
            "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        ).status_code
        == 401
    )  # the earlier session ended
    assert accounts.sign_in(person).status_code == 401  # the old password
    assert accounts.sign_in(person, password=NEW_PASSWORD).json["status"] == "signed_in"
    assert [e["data"]["version"] for e in events_of(world, "access.user_updated")]
    assert world.audit(action="user.password_reset", outcome="ok")


def test_a_reset_link_does_not_work_after_an_hour(accounts, world):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    accounts.client.post("/auth/password-reset", json={"clinic": "clinic-a", "email": person.email})
    token = token_of(events_of(world, "user.password_reset_requested")[0])
    accounts.clock.advance(hours=1, seconds=1)
    late = accounts.client.post(
        "/auth/password-reset/complete", json={"token": token, "password": NEW_PASSWORD}
    )
    assert (late.status_code, late.json["message"]) == (404, EXPIRED)
    assert accounts.sign_in(person).json["status"] == "signed_in"  # the password is unchanged


def test_a_reset_request_answers_202_for_anyone_and_emails_only_an_active_account(accounts, world):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    accounts.invite("clinic-a", "invited@clinic-a.example")
    for clinic, email in (("clinic-a", "nobody@clinic-a.example"), ("no-such", person.email),
                          ("clinic-a", "invited@clinic-a.example"), ("clinic-a", person.email),
                          ("clinic-a", person.email)):  # fmt: skip
        answer = accounts.client.post(
            "/auth/password-reset", json={"clinic": clinic, "email": email}
        )
        assert (answer.status_code, answer.get_data()) == (202, b"")
    [reset] = events_of(world, "user.password_reset_requested")  # one a minute per account
    assert reset["data"]["user_id"] == person.user_id
    accounts.clock.advance(minutes=2)
    accounts.client.post("/auth/password-reset", json={"clinic": "clinic-a", "email": person.email})
    assert len(events_of(world, "user.password_reset_requested")) == 2


def test_the_ops_cli_invites_a_clinics_first_admin_and_prints_the_link(settings, world, capsys):
    code = cli.main(
        [
            "create-admin",
            "--tenant",
            "clinic-a",
            "--name",
            "Dana",
            "--email",
            "dana@clinic-a.example",
        ],
        settings=settings,
    )
    printed = json.loads(capsys.readouterr().out)
    assert code == 0 and printed["role"] == "admin" and printed["status"] == "invited"
    [invited] = events_of(world, "user.invited")
    assert printed["invitation_link"] == invited["data"]["link"]
    bad = cli.main(
        ["create-admin", "--tenant", "clinic-a", "--name", "X", "--email", "not-an-email"],
        settings=settings,
    )
    assert bad == 1 and "email" in capsys.readouterr().err


def test_openapi_documents_every_sign_in_endpoint_and_both_bearer_schemes(client):
    document = client.get("/openapi.json").json
    schemes = document["components"]["securitySchemes"]
    assert schemes["staffToken"]["bearerFormat"] == "JWT" and "bearerAuth" in schemes
    paths = document["paths"]
    for path in ("/auth/sign-in", "/auth/sign-in/second-factor", "/auth/refresh",
                 "/auth/sign-out", "/auth/invitation", "/auth/password-reset",
                 "/auth/password-reset/complete"):  # fmt: skip
        assert paths[path]["post"]["security"] == [], path
    for path in ("/auth/me", "/auth/totp", "/auth/totp/confirm", "/admin/users",
                 "/admin/users/{user_id}", "/admin/users/{user_id}/disable",
                 "/admin/sign-in-policy"):  # fmt: skip
        assert path in paths, path
    sign_in = paths["/auth/sign-in"]["post"]["responses"]
    assert {"200", "401", "429", "422"} <= set(sign_in)


def test_another_clinics_admin_gets_404_for_a_user_and_changes_nothing(accounts, world):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    before = world.db.users.find_one({"_id": person.user_id})
    other_admin = bearer(world.key("clinic-b", "admin"))
    change = {"role": "admin", "locations": None, "version": before["version"]}
    for method, path, body in (
        ("get", f"/admin/users/{person.user_id}", None),
        ("put", f"/admin/users/{person.user_id}", change),
        ("post", f"/admin/users/{person.user_id}/disable", None),
        ("post", f"/admin/users/{person.user_id}/invitation", None),
    ):
        answer = getattr(accounts.client, method)(path, json=body, headers=other_admin)
        assert answer.status_code == 404, (method, path, answer.json)
    assert accounts.client.get("/admin/users", headers=other_admin).json["total"] == 0
    assert world.db.users.find_one({"_id": person.user_id}) == before
