"""Enrolling a second factor (TOTP), by the signed-in person themselves.

`start_enrolment` makes a secret (kept pending, replaced by a new start) and answers it with its
`otpauth://` URI for an authenticator app; `confirm_enrolment` takes a current code of it, makes
the factor the person's, and answers ten recovery codes, once (only their hashes are kept). The
session it was confirmed in counts as having given the second factor; the person's next token
refresh gets full access.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.intake.bootstrap import Deps
from services.intake.domain.second_factor import (
    accepted_step,
    new_recovery_codes,
    new_secret,
    provisioning_uri,
    recovery_code_hash,
)
from services.intake.domain.staff_users import ACTIVE, has_totp
from services.intake.repository.staff_sessions import StaffSessions
from services.intake.repository.users import Users
from services.intake.usecases import staff_audit
from services.intake.usecases.tenants import get_tenant
from services.intake.usecases.users import get_user_record
from shared.errors import Conflict, Invalid
from shared.web.auth import Principal

PENDING_TTL = timedelta(minutes=15)


def start_enrolment(deps: Deps, principal: Principal) -> dict[str, Any]:
    user = _person(deps, principal)
    if has_totp(user):
        raise Conflict("a second factor is enrolled already; sign in again with its code")
    secret = new_secret()
    pending = {"secret": secret, "created_at": deps.clock()}
    Users(deps.db, principal.tenant_id).touch(
        user["_id"], {"$set": {"totp_pending": pending}}, {"status": ACTIVE}
    )
    issuer = get_tenant(deps, principal.tenant_id)["name"]
    return {"secret": secret, "otpauth_uri": provisioning_uri(secret, user["email"], issuer)}


def confirm_enrolment(deps: Deps, principal: Principal, code: str) -> dict[str, Any]:
    user, now = _person(deps, principal), deps.clock()
    if has_totp(user):
        raise Conflict("a second factor is enrolled already")
    pending = user.get("totp_pending") or {}
    if not pending or now - pending["created_at"] > PENDING_TTL:
        raise Conflict("start the enrolment first (POST /auth/totp)")
    step = accepted_step(pending["secret"], code, now, None)
    if step is None:
        raise Invalid.one("code", "is not the current code of your authenticator app")
    codes = new_recovery_codes()
    update = {
        "$set": {
            "totp": {"secret": pending["secret"], "last_step": step, "enrolled_at": now},
            "recovery_codes": [recovery_code_hash(c) for c in codes],
        },
        "$unset": {"totp_pending": ""},
    }
    users = Users(deps.db, principal.tenant_id)
    if not users.change(user, update, guard={"totp_pending.secret": pending["secret"]}):
        raise Conflict("the enrolment changed meanwhile: start it again")
    if principal.staff_session_id:
        StaffSessions(deps.db, principal.tenant_id).second_factor_given(principal.staff_session_id)
    staff_audit.record(deps, principal.tenant_id, user, "user.totp_enrolled")
    return {"recovery_codes": codes}


def _person(deps: Deps, principal: Principal) -> dict[str, Any]:
    assert principal.user_id is not None  # requires_person
    return get_user_record(deps, principal.tenant_id, principal.user_id)
