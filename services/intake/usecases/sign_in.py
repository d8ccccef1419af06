"""Signing in to one clinic: the password, then the second factor when the person has one.

Made to resist guessing: an unknown clinic or email, a wrong password, an invited or disabled
account and a locked one all answer the same 401 with the same message, after the same work
(one argon2id verification, against a dummy hash when there is no account; one failure
recorded per clinic and email). Ten failures within 15 minutes lock the account for 15
minutes (`domain/lockout.py`); every address is limited per minute (`address_limits`). Every
sign-in, failure, lockout and second-factor use is audited.

A person with TOTP gets a challenge (5 minutes, 5 tries) and completes the sign-in with a code
of their authenticator (each code once) or one of their recovery codes (each once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.intake.bootstrap import Deps
from services.intake.domain.lockout import LOCK, is_locked, should_lock
from services.intake.domain.opaque_tokens import new_token, parse_token, same_hash
from services.intake.domain.passwords import hash_password, needs_rehash, password_matches
from services.intake.domain.second_factor import accepted_step, recovery_code_hash
from services.intake.domain.staff_users import ACTIVE, SignInPolicy, has_totp, normalize_email
from services.intake.repository.sign_in_guards import SignInFailures
from services.intake.repository.tenants import Tenants
from services.intake.repository.users import Users
from services.intake.usecases import staff_audit
from services.intake.usecases.address_limits import count_request
from services.intake.usecases.staff_sessions import Tokens, require_signing_key, start_session
from shared.errors import Invalid, Unauthorized

NOT_SIGNED_IN = "the clinic, email or password is not right (or the account is locked for now)"
CHALLENGE_GONE = "this sign-in has expired or is not valid: sign in again"
WRONG_CODE = "the code is not right"
CHALLENGE_TTL = timedelta(minutes=5)
CHALLENGE_TRIES = 5


@dataclass(frozen=True)
class Challenge:
    """The password was right; a second factor must follow (`complete_second_factor`)."""

    challenge: str
    expires_in: int


def sign_in(deps: Deps, clinic: str, email: str, password: str, address: str) -> Tokens | Challenge:
    require_signing_key(deps)
    count_request(deps, address)
    email, now = normalize_email(email), deps.clock()
    tenant = Tenants(deps.db, clinic).get()
    user = Users(deps.db, clinic).by_email(email)
    failures = SignInFailures(deps.db, clinic)
    record = failures.get(email)
    matches = password_matches((user or {}).get("password_hash"), password)
    locked = is_locked(record.get("locked_until"), now)
    if tenant is None or user is None or user["status"] != ACTIVE or not matches or locked:
        why = "locked" if locked else "no such account" if user is None else "wrong password"
        _failed(deps, clinic, user, email, "user.sign_in", f"{why} (from {address})")
        raise Unauthorized(NOT_SIGNED_IN)
    if record.get("failures"):
        failures.clear(email)
    if needs_rehash(user["password_hash"]):
        Users(deps.db, clinic).touch(
            user["_id"], {"$set": {"password_hash": hash_password(password)}}, {}
        )
    if has_totp(user):
        return _challenge(deps, user)
    staff_audit.record(deps, clinic, user, "user.sign_in", detail=f"from {address}")
    return start_session(deps, user, SignInPolicy.of(tenant), second_factor=False)


def complete_second_factor(
    deps: Deps, challenge: str, address: str, *, code: str | None, recovery_code: str | None
) -> Tokens:
    """Sign in with the challenge and a TOTP code (or a recovery code); each code works once."""
    require_signing_key(deps)
    count_request(deps, address)
    if not code and not recovery_code:
        raise Invalid.one("code", "give the code of your authenticator app, or a recovery code")
    parsed = parse_token(challenge)
    if parsed is None:
        raise Unauthorized(CHALLENGE_GONE)
    tenant_id, user_id = parsed
    users, now = Users(deps.db, tenant_id), deps.clock()
    user = users.get(user_id)
    pending = (user or {}).get("challenge") or {}
    if (
        user is None
        or user["status"] != ACTIVE
        or not same_hash(pending.get("hash"), challenge)
        or now >= pending["expires_at"]
        or is_locked(SignInFailures(deps.db, tenant_id).get(user["email"]).get("locked_until"), now)
    ):
        raise Unauthorized(CHALLENGE_GONE)
    used = _use_code(users, user, pending["hash"], code, now) if code else None
    if not code and recovery_code:
        used = _use_recovery_code(users, user, pending["hash"], recovery_code)
    if used is None:
        tries = {"$inc": {"challenge.failures": 1}}
        users.touch(user_id, tries, {"challenge.hash": pending["hash"]})
        if pending.get("failures", 0) + 1 >= CHALLENGE_TRIES:
            users.touch(user_id, {"$unset": {"challenge": ""}}, {"challenge.hash": pending["hash"]})
        _failed(deps, tenant_id, user, user["email"], "user.second_factor", f"from {address}")
        raise Unauthorized(WRONG_CODE)
    staff_audit.record(deps, tenant_id, user, "user.second_factor", detail=used)
    tenant = Tenants(deps.db, tenant_id).get() or {}
    return start_session(deps, user, SignInPolicy.of(tenant), second_factor=True)


def _challenge(deps: Deps, user: dict[str, Any]) -> Challenge:
    raw, hashed = new_token(user["tenant_id"], user["_id"])
    pending = {"hash": hashed, "expires_at": deps.clock() + CHALLENGE_TTL, "failures": 0}
    Users(deps.db, user["tenant_id"]).touch(user["_id"], {"$set": {"challenge": pending}}, {})
    staff_audit.record(
        deps, user["tenant_id"], user, "user.sign_in", detail="password right; second factor asked"
    )
    return Challenge(raw, int(CHALLENGE_TTL.total_seconds()))


def _use_code(
    users: Users, user: dict[str, Any], challenge_hash: str, code: str, now: datetime
) -> str | None:
    totp = user["totp"]
    step = accepted_step(totp["secret"], code, now, totp.get("last_step"))
    if step is None:
        return None
    later = {"$or": [{"totp.last_step": None}, {"totp.last_step": {"$lt": step}}]}
    done = users.touch(
        user["_id"],
        {"$set": {"totp.last_step": step}, "$unset": {"challenge": ""}},
        {"challenge.hash": challenge_hash, **later},
    )
    return "totp code" if done else None


def _use_recovery_code(
    users: Users, user: dict[str, Any], challenge_hash: str, recovery_code: str
) -> str | None:
    hashed = recovery_code_hash(recovery_code)
    if hashed not in user.get("recovery_codes", []):
        return None
    done = users.touch(
        user["_id"],
        {"$pull": {"recovery_codes": hashed}, "$unset": {"challenge": ""}},
        {"challenge.hash": challenge_hash, "recovery_codes": hashed},
    )
    left = len(user["recovery_codes"]) - 1
    return f"recovery code ({left} left)" if done else None


def _failed(
    deps: Deps, tenant_id: str, user: dict[str, Any] | None, email: str, action: str, detail: str
) -> None:
    """Count the failure against the clinic and email; lock it at the tenth in the window."""
    failures, now = SignInFailures(deps.db, tenant_id), deps.clock()
    after = failures.add(email, now)
    staff_audit.record(deps, tenant_id, user, action, outcome="refused", detail=detail)
    if should_lock(after.get("failures", []), after.get("locked_until"), now):
        failures.lock(email, now + LOCK)
        staff_audit.record(
            deps, tenant_id, user, "user.locked", outcome="refused", detail=f"for {LOCK}"
        )
