"""Signing in to intake as staff, against the real MongoDB (stand-in): the answers that give
nothing away, lockout, the rate limit per address, the second factor and recovery codes, and
the password policy (issue 13's list of attacks)."""

from __future__ import annotations

import dataclasses
import statistics
import time

import pyotp
import pytest

from services.intake.app import create_app
from services.intake.domain.second_factor import STEP_S
from services.intake.repository.indexes import SIGN_IN_FAILURES
from shared.mongo import Mongo
from testkit.mongo_commands import CommandCapture
from tests.support.staff_accounts import PASSWORD, StaffAccounts, bearer

NOT_SIGNED_IN = "the clinic, email or password is not right (or the account is locked for now)"


@pytest.fixture
def accounts(app, world):
    return StaffAccounts(app)


def enrolled(accounts: StaffAccounts, person) -> tuple[str, list[str]]:
    """Enrol TOTP for `person` (signed in first): their secret and recovery codes."""
    tokens = accounts.tokens(person)
    started = accounts.client.post("/auth/totp", headers=bearer(tokens["access_token"]))
    secret = started.json["secret"]
    code = pyotp.TOTP(secret).at(accounts.clock())
    confirmed = accounts.client.post(
        "/auth/totp/confirm", json={"code": code}, headers=bearer(tokens["access_token"])
    )
    assert confirmed.status_code == 200, confirmed.json
    accounts.clock.advance(seconds=2 * STEP_S)  # the enrolment used this step and earlier
    return secret, confirmed.json["recovery_codes"]


def challenge_of(accounts: StaffAccounts, person) -> str:
    answer = accounts.sign_in(person)
    assert answer.json["status"] == "second_factor_required", answer.json
    assert "access_token" not in answer.json
    return answer.json["challenge"]


def second_factor(accounts: StaffAccounts, challenge: str, **code: str):
    return accounts.client.post(
        "/auth/sign-in/second-factor", json={"challenge": challenge, **code}
    )


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer_after_the_same_work(
    settings, app, accounts, db
):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    capture = CommandCapture()
    mongo = Mongo(settings, [capture])  # the app's own database calls, recorded
    app.extensions["mongo"] = mongo
    app.extensions["deps"] = dataclasses.replace(accounts.deps, store=mongo)
    answers, commands, seconds = {}, {}, {"unknown": [], "wrong": []}
    for _ in range(5):
        for kind, credentials in (
            ("unknown", person.credentials(email="nobody@clinic-a.example")),
            ("wrong", person.credentials(password="not-the-password-at-all")),
        ):
            capture.clear()
            started = time.perf_counter()
            answer = accounts.client.post("/auth/sign-in", json=credentials)
            seconds[kind].append(time.perf_counter() - started)
            answers[kind] = (answer.status_code, answer.json)
            commands[kind] = list(capture.commands)
    assert (
        answers["unknown"]
        == answers["wrong"]
        == (
            401,
            {"code": 401, "status": "Unauthorized", "message": NOT_SIGNED_IN},
        )
    )
    assert commands["unknown"] == commands["wrong"]  # the same reads and writes, in order
    unknown, wrong = (statistics.median(seconds[k]) for k in ("unknown", "wrong"))
    assert abs(unknown - wrong) < max(0.02, 0.3 * wrong), (unknown, wrong)
    refused = [a for a in db.audit.find({"action": "user.sign_in", "outcome": "refused"})]
    assert {a["actor"] for a in refused} == {"anonymous", f"user:{person.user_id}"}
    mongo.close()


def test_an_unknown_clinic_and_an_invited_account_answer_the_same_401(accounts):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    accounts.invite("clinic-a", "invited@clinic-a.example")
    for credentials in (
        person.credentials(clinic="no-such-clinic"),
        person.credentials(email="invited@clinic-a.example"),
        person.credentials(clinic="clinic-b"),
    ):
        answer = accounts.client.post("/auth/sign-in", json=credentials)
        assert (answer.status_code, answer.json["message"]) == (401, NOT_SIGNED_IN)


def test_ten_failures_in_fifteen_minutes_lock_the_account_with_the_same_answer(accounts, db):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    for _ in range(10):
        assert accounts.sign_in(person, password="wrong-password-123").status_code == 401
    locked = accounts.sign_in(person)  # the right password, while locked
    assert (locked.status_code, locked.json["message"]) == (401, NOT_SIGNED_IN)
    assert (
        db.audit.count_documents({"action": "user.locked", "actor": f"user:{person.user_id}"}) == 1
    )
    accounts.clock.advance(minutes=16)
    assert accounts.sign_in(person).json["status"] == "signed_in"


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(accounts, db):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    for _ in range(9):
        accounts.sign_in(person, password="wrong-password-123")
    accounts.clock.advance(minutes=16)
    accounts.sign_in(person, password="wrong-password-123")
    assert accounts.sign_in(person).json["status"] == "signed_in"
    assert db.audit.count_documents({"action": "user.locked"}) == 0
    assert db[SIGN_IN_FAILURES].find_one({"tenant_id": "clinic-a"})["failures"] == []


def test_an_address_over_the_rate_limit_gets_429_with_retry_after_across_app_instances(
    settings, world
):
    overrides = {
        "mongo_url": settings.mongo_url,
        "mongo_db": settings.mongo_db,
        "auth_public_pems": settings.auth_public_pems,
        "auth_signing_pem": settings.own.auth_signing_pem,
        "sign_in_rate_limit": 3,
    }
    first, second = create_app(overrides).test_client(), create_app(overrides).test_client()
    body = {"clinic": "clinic-a", "email": "x@clinic-a.example", "password": "whatever-it-is"}
    statuses = [c.post("/auth/sign-in", json=body).status_code for c in (first, second, first)]
    assert statuses == [401, 401, 401]
    limited = second.post("/auth/sign-in", json=body)  # another "worker": the count is shared
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    reset = second.post("/auth/password-reset", json={"clinic": "clinic-a", "email": "x@y.example"})
    assert reset.status_code == 429
    forwarded = {"X-Forwarded-For": "203.0.113.9"}  # not a trusted proxy: the header is ignored
    assert first.post("/auth/sign-in", json=body, headers=forwarded).status_code == 429


def test_a_trusted_proxy_forwards_the_address_the_limit_counts(settings, world):
    overrides = {
        "mongo_url": settings.mongo_url,
        "mongo_db": settings.mongo_db,
        "auth_signing_pem": settings.own.auth_signing_pem,
        "auth_public_pems": settings.auth_public_pems,
        "sign_in_rate_limit": 1,
        "trusted_proxies": "127.0.0.1",
    }
    client = create_app(overrides).test_client()
    body = {"clinic": "clinic-a", "email": "x@clinic-a.example", "password": "whatever-it-is"}
    for address in ("198.51.100.1", "198.51.100.2"):
        headers = {"X-Forwarded-For": f"10.9.9.9, {address}"}
        assert client.post("/auth/sign-in", json=body, headers=headers).status_code == 401
    again = {"X-Forwarded-For": "198.51.100.1"}
    assert client.post("/auth/sign-in", json=body, headers=again).status_code == 429


def test_a_person_with_totp_signs_in_with_a_challenge_and_a_current_code(accounts, db):
    person = accounts.person("clinic-a", "ada@clinic-a.example", role="admin")
    secret, _ = enrolled(accounts, person)
    challenge = challenge_of(accounts, person)
    answer = second_factor(accounts, challenge, code=pyotp.TOTP(secret).at(accounts.clock()))
    assert answer.status_code == 200 and answer.json["scope"] == "all"
    users = accounts.client.get("/admin/users", headers=bearer(answer.json["access_token"]))
    assert users.status_code == 200
    used_again = second_factor(accounts, challenge, code=pyotp.TOTP(secret).at(accounts.clock()))
    assert used_again.status_code == 401  # the challenge is spent
    assert db.audit.count_documents({"action": "user.second_factor", "outcome": "ok"}) == 1


def test_a_wrong_code_a_replayed_code_and_a_code_out_of_the_window_are_refused(accounts, db):
    person = accounts.person("clinic-a", "ada@clinic-a.example", role="admin")
    secret, _ = enrolled(accounts, person)
    totp = pyotp.TOTP(secret)
    challenge = challenge_of(accounts, person)
    wrong = f"{(int(totp.at(accounts.clock())) + 1) % 1_000_000:06d}"
    assert second_factor(accounts, challenge, code=wrong).status_code == 401
    too_old = totp.at(accounts.clock().timestamp() - 2 * STEP_S)
    too_new = totp.at(accounts.clock().timestamp() + 2 * STEP_S)
    for code in (too_old, too_new):
        refused = second_factor(accounts, challenge, code=code)
        assert (refused.status_code, refused.json["message"]) == (401, "the code is not right")
    one_step_late = totp.at(accounts.clock().timestamp() - STEP_S)  # drift of one step: fine
    assert second_factor(accounts, challenge, code=one_step_late).status_code == 200
    replay = challenge_of(accounts, person)
    assert second_factor(accounts, replay, code=one_step_late).status_code == 401  # used once
    current = totp.at(accounts.clock())
    assert second_factor(accounts, replay, code=current).status_code == 200
    later = challenge_of(accounts, person)
    assert second_factor(accounts, later, code=current).status_code == 401  # the same step again
    assert db.audit.count_documents({"action": "user.second_factor", "outcome": "refused"}) == 5


def test_five_wrong_codes_spend_the_challenge(accounts):
    person = accounts.person("clinic-a", "ada@clinic-a.example", role="admin")
    secret, _ = enrolled(accounts, person)
    challenge = challenge_of(accounts, person)
    for _ in range(5):
        assert second_factor(accounts, challenge, code="000000").status_code == 401
    code = pyotp.TOTP(secret).at(accounts.clock())
    gone = second_factor(accounts, challenge, code=code)
    assert gone.status_code == 401 and "sign in again" in gone.json["message"]


def test_a_recovery_code_works_once(accounts, db):
    person = accounts.person("clinic-a", "ada@clinic-a.example", role="admin")
    _, codes = enrolled(accounts, person)
    assert len(codes) == len(set(codes)) == 10
    first = second_factor(accounts, challenge_of(accounts, person), recovery_code=codes[0])
    assert first.status_code == 200 and first.json["scope"] == "all"
    again = second_factor(accounts, challenge_of(accounts, person), recovery_code=codes[0])
    assert again.status_code == 401
    stored = db.users.find_one({"_id": person.user_id})
    assert len(stored["recovery_codes"]) == 9 and codes[1] not in str(stored)
    other = second_factor(accounts, challenge_of(accounts, person), recovery_code=codes[1].upper())
    assert other.status_code == 200


def test_an_admin_without_a_second_factor_may_only_enrol_one(accounts):
    admin = accounts.person("clinic-a", "ada@clinic-a.example", role="admin")
    tokens = accounts.tokens(admin)
    assert tokens["scope"] == "enrol_totp"
    headers = bearer(tokens["access_token"])
    for path in ("/admin/users", "/referrals", "/admin/tenant"):
        refused = accounts.client.get(path, headers=headers)
        assert refused.status_code == 403 and "enrol a second factor" in refused.json["message"]
    assert accounts.client.get("/auth/me", headers=headers).json["scope"] == "enrol_totp"
    started = accounts.client.post("/auth/totp", headers=headers)
    code = pyotp.TOTP(started.json["secret"]).at(accounts.clock())
    wrong = accounts.client.post("/auth/totp/confirm", json={"code": "000000"}, headers=headers)
    assert wrong.status_code == 422 and "code" in wrong.json["errors"]["json"]
    confirmed = accounts.client.post("/auth/totp/confirm", json={"code": code}, headers=headers)
    assert confirmed.status_code == 200
    refreshed = accounts.client.post(
        "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.json["scope"] == "all"
    full = bearer(refreshed.json["access_token"])
    assert accounts.client.get("/admin/users", headers=full).status_code == 200


def test_a_clinic_can_require_a_second_factor_of_everyone(accounts, world):
    admin_key = world.key("clinic-a", "admin")
    therapist = accounts.person("clinic-a", "sam@clinic-a.example")
    tokens = accounts.tokens(therapist)
    assert tokens["scope"] == "all"
    policy = {"require_totp": True, "session_idle_minutes": 30}
    changed = accounts.client.put("/admin/sign-in-policy", json=policy, headers=bearer(admin_key))
    assert changed.status_code == 200 and changed.json == policy
    refreshed = accounts.client.post(
        "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.json["scope"] == "enrol_totp"
    assert accounts.tokens(therapist)["scope"] == "enrol_totp"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-pw", "must be at least 12 characters long"),
        ("qwerty123456", "is one of the most common passwords; choose another"),
        ("LeaveMeAlone", "is one of the most common passwords; choose another"),
    ],
)
def test_a_short_or_common_password_is_refused_with_a_clear_message_and_the_link_still_works(
    accounts, db, password, problem
):
    user, token = accounts.invite("clinic-a", "sam@clinic-a.example")
    refused = accounts.client.post("/auth/invitation", json={"token": token, "password": password})
    assert refused.status_code == 422
    assert refused.json["errors"]["json"] == {"password": [problem]}
    stored = db.users.find_one({"_id": user["_id"]})
    assert stored["status"] == "invited" and stored["password_hash"] is None
    accepted = accounts.client.post("/auth/invitation", json={"token": token, "password": PASSWORD})
    assert accepted.status_code == 200 and accepted.json["email"] == "sam@clinic-a.example"


def test_a_password_is_stored_as_an_argon2id_hash_only(accounts, db):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    stored = db.users.find_one({"_id": person.user_id})
    assert stored["password_hash"].startswith("$argon2id$v=19$m=65536,t=1,p=1$")
    assert PASSWORD not in str(stored) and PASSWORD not in str(list(db.audit.find()))
