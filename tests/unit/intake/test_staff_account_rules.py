"""The pure rules of staff accounts: the password policy, TOTP steps, recovery codes, lockout,
the rate window, opaque tokens, links, sessions and the claims of their access tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from services.intake.domain import lockout, opaque_tokens, passwords, rate_limit, second_factor
from services.intake.domain.staff_sessions import EXPIRED, IDLE, access_claims, end_reason
from services.intake.domain.staff_users import (
    EXPIRED_LINK,
    INVITATION,
    PASSWORD_RESET,
    SignInPolicy,
    access_problem,
    link_problem,
    session_scope,
)

NOW = datetime(2026, 11, 3, 9, 30, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("", "must be at least 12 characters long"),
        ("elevenchars", "must be at least 12 characters long"),
        ("x" * 257, "must be at most 256 characters long"),
        ("1qaz2wsx3edc", "is one of the most common passwords; choose another"),
        ("QWERTY123456", "is one of the most common passwords; choose another"),
        ("sam.ortiz@clinic.example", "may not be your email address"),
    ],
)
def test_a_password_the_policy_refuses_is_told_why(password, problem):
    assert passwords.password_problem(password, email="sam.ortiz@clinic.example") == {
        "password": [problem]
    }


def test_a_long_uncommon_password_passes_and_its_hash_is_argon2id():
    assert passwords.password_problem("lantern-harbor-quietly-9") == {}
    stored = passwords.hash_password("lantern-harbor-quietly-9")
    assert stored.startswith("$argon2id$")
    assert passwords.password_matches(stored, "lantern-harbor-quietly-9")
    assert not passwords.password_matches(stored, "lantern-harbor-quietly-8")
    assert not passwords.password_matches(None, "")  # no hash: the dummy one, never a match
    assert not passwords.password_matches("not a hash", "x")


def test_a_totp_code_is_accepted_in_its_step_and_one_either_side_only_once():
    secret = second_factor.new_secret()
    totp, step = pyotp.TOTP(secret), second_factor.step_at(NOW)
    at = totp.generate_otp
    assert second_factor.accepted_step(secret, at(step), NOW, None) == step
    assert second_factor.accepted_step(secret, at(step - 1), NOW, None) == step - 1
    assert (
        second_factor.accepted_step(secret, f" {at(step + 1)[:3]} {at(step + 1)[3:]}", NOW, None)
        == step + 1
    )
    assert second_factor.accepted_step(secret, at(step - 2), NOW, None) is None
    assert second_factor.accepted_step(secret, at(step + 2), NOW, None) is None
    assert second_factor.accepted_step(secret, at(step), NOW, step) is None  # replayed
    assert second_factor.accepted_step(secret, at(step - 1), NOW, step - 1) is None
    assert second_factor.accepted_step(secret, at(step), NOW, step - 1) == step
    assert second_factor.accepted_step(secret, "12345a", NOW, None) is None


def test_recovery_codes_are_ten_distinct_and_hashed_ignoring_case_and_dashes():
    codes = second_factor.new_recovery_codes()
    assert len(set(codes)) == 10 and all(len(c) == 14 for c in codes)
    code = codes[0]
    assert second_factor.recovery_code_hash(code) == second_factor.recovery_code_hash(
        code.upper().replace("-", " ")
    )


def test_the_tenth_failure_within_fifteen_minutes_locks_and_older_ones_do_not_count():
    failures = [NOW - timedelta(minutes=14, seconds=59 - i) for i in range(9)] + [NOW]
    assert lockout.should_lock(failures, None, NOW)
    assert not lockout.should_lock(failures[1:], None, NOW)
    spread = [NOW - timedelta(minutes=16)] + failures[1:]
    assert not lockout.should_lock(spread, None, NOW)
    assert not lockout.should_lock(failures, NOW + timedelta(minutes=1), NOW)  # locked already
    assert lockout.is_locked(NOW + lockout.LOCK, NOW) and not lockout.is_locked(NOW, NOW)


def test_the_rate_window_is_a_minute_and_retry_after_counts_to_its_end():
    assert rate_limit.window_start(NOW) == NOW.replace(second=0)
    assert rate_limit.retry_after_s(NOW) == 53
    assert rate_limit.retry_after_s(NOW.replace(second=59, microsecond=999_999)) == 1


def test_an_opaque_token_names_its_tenant_and_object_and_only_its_hash_matches():
    raw, hashed = opaque_tokens.new_token("clinic-a", "usr_0123456789abcdef0123")
    assert opaque_tokens.parse_token(raw) == ("clinic-a", "usr_0123456789abcdef0123")
    assert opaque_tokens.same_hash(hashed, raw) and not opaque_tokens.same_hash(hashed, raw + "x")
    for bad in ("", "clinic-a.usr_x.secret", raw + "=", "$ne.usr_0123456789abcdef0123." + "a" * 43):
        assert opaque_tokens.parse_token(bad) is None


def user(**changes):
    return {
        "_id": "usr_0123456789abcdef0123", "tenant_id": "clinic-a", "name": "Sam",
        "email": "sam@clinic-a.example", "role": "therapist", "locations": ["main"],
        "status": "invited", "version": 3, "totp": None, **changes,
    }  # fmt: skip


def test_a_link_is_refused_with_one_message_when_expired_used_forged_or_of_another_purpose():
    raw, hashed = opaque_tokens.new_token("clinic-a", "usr_0123456789abcdef0123")
    link = {"purpose": INVITATION, "hash": hashed, "expires_at": NOW + timedelta(hours=72)}
    invited = user(link=link)
    assert link_problem(invited, INVITATION, raw, NOW) is None
    for problem in (
        link_problem(invited, INVITATION, raw, NOW + timedelta(hours=72)),
        link_problem(invited, INVITATION, raw[:-1] + "x", NOW),
        link_problem(invited, PASSWORD_RESET, raw, NOW),
        link_problem(user(), INVITATION, raw, NOW),  # used: no link any more
        link_problem(user(link=link, status="active"), INVITATION, raw, NOW),
        link_problem(None, INVITATION, raw, NOW),
    ):
        assert problem == EXPIRED_LINK


def test_who_must_give_a_second_factor():
    policy, strict = SignInPolicy(), SignInPolicy(require_totp=True)
    assert session_scope(user(), policy, False) == "all"
    assert session_scope(user(role="admin"), policy, False) == "enrol_totp"
    assert session_scope(user(), strict, False) == "enrol_totp"
    assert session_scope(user(totp={"secret": "S"}), policy, False) == "enrol_totp"
    assert session_scope(user(role="admin"), policy, True) == "all"


def test_a_role_must_be_a_staff_role_and_locations_the_clinics():
    tenant = {"locations": [{"location_id": "main"}, {"location_id": "uptown"}]}
    assert access_problem(tenant, "therapist", ["main"]) == {}
    assert access_problem(tenant, "front_desk", None) == {}
    assert "role" in access_problem(tenant, "partner", None)
    assert "locations" in access_problem(tenant, "therapist", ["harbor"])
    assert "locations" in access_problem(tenant, "therapist", [])


def test_a_session_ends_when_idle_at_its_end_or_when_ended():
    session = {"_id": "sess_0123456789abcdef0123", "last_active_at": NOW,
               "ends_at": NOW + timedelta(hours=12), "ended_at": None}  # fmt: skip
    assert end_reason(session, 15, NOW + timedelta(minutes=14, seconds=59)) is None
    assert end_reason(session, 15, NOW + timedelta(minutes=15)) == IDLE
    assert end_reason({**session, "last_active_at": NOW + timedelta(hours=12)}, 15,
                      NOW + timedelta(hours=12)) == EXPIRED  # fmt: skip
    assert (
        end_reason({**session, "ended_at": NOW, "end_reason": "signed_out"}, 15, NOW)
        == "signed_out"
    )


def test_an_access_token_carries_the_user_and_never_outlives_its_session():
    session = {"_id": "sess_0123456789abcdef0123", "ends_at": NOW + timedelta(minutes=2)}
    claims = access_claims(user(status="active"), session, "all", NOW, 300)
    assert (claims.user_id, claims.tenant_id, claims.role, claims.locations, claims.version) == (
        "usr_0123456789abcdef0123", "clinic-a", "therapist", ("main",), 3,
    )  # fmt: skip
    assert claims.expires_at - claims.issued_at == 120  # the session's end, not 300 s
    everywhere = access_claims(
        user(locations=None), {**session, "ends_at": NOW + timedelta(hours=1)}, "all", NOW, 300
    )
    assert everywhere.locations is None and everywhere.expires_at - everywhere.issued_at == 300
