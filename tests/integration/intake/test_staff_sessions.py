"""Staff sessions and access tokens in intake: rotation of refresh tokens (a reused one ends the
session), the idle and absolute timeouts, sign-out, a disabled user, a role change, tokens that
are expired or signed by another key, and the same tenant and location rules as API keys."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from services.intake.usecases import users
from shared.token_keys import development_keys, load_signing_key
from shared.tokens import sign, verify
from shared.web.auth import clear_cache
from testkit.referrals import native_referral
from testkit.waiting import wait_until
from tests.support.staff_accounts import StaffAccounts, bearer


@pytest.fixture
def accounts(app, world):
    return StaffAccounts(app)


def refresh(accounts: StaffAccounts, token: str):
    return accounts.client.post("/auth/refresh", json={"refresh_token": token})


def pending_types(world, collection: str) -> list[str]:
    return [event["type"] for event in world.pending_events(collection)]


def test_a_refresh_token_is_rotated_and_an_old_one_used_again_ends_the_session(accounts, world):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    first = accounts.tokens(person)
    second = refresh(accounts, first["refresh_token"])
    assert second.status_code == 200 and second.json["refresh_token"] != first["refresh_token"]
    assert second.json["staff_session_id"] == first["staff_session_id"]
    stolen = refresh(accounts, first["refresh_token"])  # someone kept a copy of the first
    assert stolen.status_code == 401
    assert refresh(accounts, second.json["refresh_token"]).status_code == 401  # session over
    assert pending_types(world, "staff_sessions") == ["access.session_ended"]
    ended = world.pending_events("staff_sessions")[0]["data"]
    assert (ended["staff_session_id"], ended["reason"]) == (
        first["staff_session_id"],
        "refresh_token_reused",
    )
    assert world.audit(action="session.end", detail="refresh_token_reused")
    headers = bearer(second.json["access_token"])
    wait_until(
        lambda: accounts.client.get("/auth/me", headers=headers).status_code == 401,
        timeout=5,
        message="the ended session's access token to be refused",
    )


def test_a_forged_refresh_token_changes_nothing(accounts, world):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    tokens = accounts.tokens(person)
    forged = tokens["refresh_token"].rsplit(".", 1)[0] + "." + "A" * 43
    assert refresh(accounts, forged).status_code == 401
    assert refresh(accounts, "not-a-token").status_code == 401
    assert refresh(accounts, tokens["refresh_token"]).status_code == 200  # still good
    assert pending_types(world, "staff_sessions") == []


def test_a_session_ends_after_the_clinic_idle_timeout(accounts, world):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    tokens = accounts.tokens(person)
    accounts.clock.advance(minutes=14)
    kept = refresh(accounts, tokens["refresh_token"])
    assert kept.status_code == 200
    accounts.clock.advance(minutes=15)
    idle = refresh(accounts, kept.json["refresh_token"])
    assert idle.status_code == 401 and "idle" in idle.json["message"]
    key = world.key("clinic-a", "admin")
    policy = {"require_totp": False, "session_idle_minutes": 60}
    accounts.client.put("/admin/sign-in-policy", json=policy, headers=bearer(key))
    longer = accounts.tokens(person)
    accounts.clock.advance(minutes=45)
    assert refresh(accounts, longer["refresh_token"]).status_code == 200


def test_a_session_ends_after_twelve_hours_however_active(accounts):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    token = accounts.tokens(person)["refresh_token"]
    answer = None
    for _ in range(12 * 60 // 14 + 1):
        accounts.clock.advance(minutes=14)
        answer = refresh(accounts, token)
        if answer.status_code != 200:
            break
        token = answer.json["refresh_token"]
        claims = jwt.decode(answer.json["access_token"], options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] <= 300  # (issued "in the future": not verified)
    assert answer is not None and answer.status_code == 401 and "expired" in answer.json["message"]


def test_an_access_token_never_outlives_its_session(accounts):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    token = accounts.tokens(person)["refresh_token"]
    for _ in range(12 * 60 // 14):
        accounts.clock.advance(minutes=14)
        token = refresh(accounts, token).json["refresh_token"]
    accounts.clock.advance(minutes=3)  # 3 minutes left of the 12 hours
    last = refresh(accounts, token).json
    assert 170 <= last["expires_in"] <= 180


def test_sign_out_ends_the_session_everywhere_by_an_event(accounts, world, db):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    tokens = accounts.tokens(person)
    headers = bearer(tokens["access_token"])
    assert accounts.client.get("/auth/me", headers=headers).status_code == 200
    signed_out = accounts.client.post(
        "/auth/sign-out", json={"refresh_token": tokens["refresh_token"]}
    )
    assert signed_out.status_code == 204
    wait_until(
        lambda: accounts.client.get("/auth/me", headers=headers).status_code == 401,
        timeout=5,
        message="the signed-out token to be refused by intake",
    )
    assert refresh(accounts, tokens["refresh_token"]).status_code == 401
    assert pending_types(world, "staff_sessions") == ["access.session_ended"]
    assert db.audit.count_documents({"action": "user.sign_out", "actor": f"user:{person.user_id}"})


def test_a_disabled_user_is_refused_within_seconds_and_cannot_refresh(accounts, world):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    tokens = accounts.tokens(person)
    headers = bearer(tokens["access_token"])
    assert accounts.client.get("/referrals", headers=headers).status_code == 200
    admin_key = world.key("clinic-a", "admin")
    disabled = accounts.client.post(
        f"/admin/users/{person.user_id}/disable", headers=bearer(admin_key)
    )
    assert disabled.status_code == 200 and disabled.json["status"] == "disabled"
    wait_until(
        lambda: accounts.client.get("/referrals", headers=headers).status_code == 401,
        timeout=5,
        message="the disabled user's token to be refused",
    )
    assert "disabled" in accounts.client.get("/referrals", headers=headers).json["message"]
    assert refresh(accounts, tokens["refresh_token"]).status_code == 401
    assert accounts.sign_in(person).status_code == 401
    updated = [e for e in world.pending_events("users") if e["type"] == "access.user_updated"]
    assert [e["data"]["status"] for e in updated] == ["disabled"]


def test_a_role_change_refuses_older_tokens_and_the_refresh_carries_the_new_role(accounts, world):
    person = accounts.person("clinic-a", "sam@clinic-a.example", role="front_desk")
    tokens = accounts.tokens(person)
    admin_key = world.key("clinic-a", "admin")
    current = accounts.client.get(f"/admin/users/{person.user_id}", headers=bearer(admin_key))
    change = {"role": "therapist", "locations": ["uptown"], "version": current.json["version"]}
    changed = accounts.client.put(
        f"/admin/users/{person.user_id}", json=change, headers=bearer(admin_key)
    )
    assert changed.status_code == 200, changed.json
    stale = accounts.client.put(
        f"/admin/users/{person.user_id}", json=change, headers=bearer(admin_key)
    )
    assert stale.status_code == 409
    headers = bearer(tokens["access_token"])
    wait_until(
        lambda: accounts.client.get("/auth/me", headers=headers).status_code == 401,
        timeout=5,
        message="the token of the old role to be refused",
    )
    renewed = refresh(accounts, tokens["refresh_token"]).json
    claims = verify(renewed["access_token"], accounts.app.extensions["token_keys"].keys)
    assert (claims.role, claims.locations) == ("therapist", ("uptown",))


def test_an_expired_token_and_a_token_signed_by_another_key_are_refused(accounts, tmp_path):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    accounts.clock.advance(minutes=-10)
    expired = accounts.tokens(person)["access_token"]
    answer = accounts.client.get("/auth/me", headers=bearer(expired))
    assert answer.status_code == 401 and "expired" in answer.json["message"]
    accounts.clock.advance(minutes=10)
    good = accounts.tokens(person)["access_token"]
    claims = verify(good, accounts.app.extensions["token_keys"].keys)
    other_key = load_signing_key(development_keys(tmp_path)["AUTH_SIGNING_PEM"])
    forged = sign(claims, other_key)  # the same claims, signed by a key intake does not trust
    answer = accounts.client.get("/referrals", headers=bearer(forged))
    assert answer.status_code == 401 and "not signed by a key" in answer.json["message"]
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    assert accounts.client.get("/referrals", headers=bearer(tampered)).status_code == 401


@pytest.fixture
def referrals(client, world):
    """One referral in each clinic, and one at clinic A's second location."""
    made = {}
    for tenant, location in (("clinic-a", "main"), ("clinic-a", "uptown"), ("clinic-b", "main")):
        body = native_referral(location_id=location)
        body["patient"] = {
            **body["patient"],
            "family_name": f"Family-{tenant}-{location}",
            "identifiers": [{"system": "urn:mrn", "value": f"MRN-{tenant}-{location}"}],
        }
        key = world.key(tenant, "front_desk")
        response = client.post("/referrals", json=body, headers=bearer(key))
        assert response.status_code == 201, response.json
        made[(tenant, location)] = response.json
    return made


def test_another_clinics_token_gets_404_on_this_clinics_ids(accounts, referrals):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    headers = bearer(accounts.tokens(person)["access_token"])
    other = referrals[("clinic-b", "main")]
    for path in (f"/referrals/{other['referral_id']}", f"/patients/{other['patient_id']}"):
        answer = accounts.client.get(path, headers=headers)
        assert answer.status_code == 404 and "Family" not in answer.get_data(as_text=True)
    own = referrals[("clinic-a", "main")]
    assert (
        accounts.client.get(f"/referrals/{own['referral_id']}", headers=headers).status_code == 200
    )


def test_a_therapists_token_gets_404_on_another_locations_patient(accounts, referrals, db):
    person = accounts.person("clinic-a", "sam@clinic-a.example", locations=["main"])
    headers = bearer(accounts.tokens(person)["access_token"])
    uptown, main = referrals[("clinic-a", "uptown")], referrals[("clinic-a", "main")]
    assert (
        accounts.client.get(f"/patients/{uptown['patient_id']}", headers=headers).status_code == 404
    )
    assert (
        accounts.client.get(f"/patients/{main['patient_id']}", headers=headers).status_code == 200
    )
    read = db.audit.find_one({"action": "patient.read", "outcome": "ok"})
    assert (read["actor"], read["actor_name"]) == (f"user:{person.user_id}", "Therapist Tester")


def test_an_admin_may_not_disable_or_demote_themselves(accounts, world):
    clear_cache()
    admin = accounts.person("clinic-a", "ada@clinic-a.example", role="admin")
    user = users.get_user_record(accounts.deps, "clinic-a", admin.user_id)
    with pytest.raises(Exception, match="your own account"):
        users.disable_user(accounts.deps, "clinic-a", admin.user_id, actor=f"user:{admin.user_id}")
    with pytest.raises(Exception, match="your own role"):
        users.change_access(
            accounts.deps, "clinic-a", admin.user_id, role="therapist", locations=None,
            version=user["version"], actor=f"user:{admin.user_id}",
        )  # fmt: skip
    assert world.db.users.find_one({"_id": admin.user_id})["status"] == "active"


def test_refresh_answers_a_fresh_access_token_of_the_current_version(accounts):
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    tokens = accounts.tokens(person)
    accounts.clock.advance(seconds=61)
    renewed = refresh(accounts, tokens["refresh_token"]).json
    keys = accounts.app.extensions["token_keys"].keys
    before, after = verify(tokens["access_token"], keys), verify(renewed["access_token"], keys)
    assert after.issued_at - before.issued_at == 61 and after.version == before.version
    assert timedelta(seconds=after.expires_at - after.issued_at) == timedelta(minutes=5)


def test_the_sign_in_session_is_named_staff_session_id_never_session_id(accounts, world):
    """Planning's `session_id` is an appointment: a staff sign-in session has its own name in
    every answer and in `access.session_ended`."""
    person = accounts.person("clinic-a", "sam@clinic-a.example")
    tokens = accounts.tokens(person)
    me = accounts.client.get("/auth/me", headers=bearer(tokens["access_token"])).json
    refreshed = refresh(accounts, tokens["refresh_token"]).json
    assert tokens["staff_session_id"].startswith("sess_")
    assert me["staff_session_id"] == refreshed["staff_session_id"] == tokens["staff_session_id"]
    assert "session_id" not in tokens and "session_id" not in me and "session_id" not in refreshed
    accounts.client.post("/auth/sign-out", json={"refresh_token": refreshed["refresh_token"]})
    [ended] = world.pending_events("staff_sessions")
    assert ended["data"]["staff_session_id"] == tokens["staff_session_id"]
    assert "session_id" not in ended["data"]
