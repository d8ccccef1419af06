"""Sign-in figures for `make bench` (issue 13): CPU per staff sign-in in the intake API, and per
access-token verification in planning.

- Sign-in: a therapist (invited by the bench clinic's admin key, password set through the link)
  signs in `count` times, one after another, over HTTP; the intake API's process tree CPU
  divided by the count. It includes the whole request (argon2id, MongoDB, audit), the rate
  limit permitting (the bench raises `SIGN_IN_RATE_LIMIT`). The argon2id verification alone is
  measured in this process beside it.
- Verification in planning: planning's own app (in this process, on the stack's planning
  database and public keys) authenticates the therapist's access token `count` times through
  `shared.web.auth.authenticate`, as every request does (the token's remembered signature and
  expiry, the cached revocation lookup: a MongoDB read a second); CPU per call, and the same for
  an API key. Beside it, the first sight of a token in a process: the Ed25519 signature and the
  claims (`shared.tokens.verify`), once per token, process and 30 seconds.
"""

from __future__ import annotations

import time
from typing import Any

from services.intake.domain import passwords
from services.planning.app import create_app as planning_app
from shared.tokens import verify
from shared.web import auth
from testkit.stack import LocalStack
from testkit.staff import StaffClient
from testkit.staff_accounts import StaffAccounts
from tools.bench.cpu import sample, spent

PASSWORD = "bench-lantern-quietly-42"
TARGETS_MS = {"sign_in_cpu_ms": 100.0, "token_verification_cpu_ms": 0.2}


def sign_in_figures(
    stack: LocalStack, tenant_id: str, admin: StaffClient, sign_ins: int, verifications: int
) -> dict[str, Any]:
    invited = admin.post(
        "intake", "/admin/users",
        {"name": "Bench Therapist", "email": f"therapist@{tenant_id}.example",
         "role": "therapist", "locations": None},
    )  # fmt: skip
    accounts = StaffAccounts(stack.url("intake"))
    accounts.accept_invitation(invited["invitation_link"].rsplit("/", 1)[1], PASSWORD)
    email = invited["email"]
    accounts.sign_in(tenant_id, email, PASSWORD)  # warm-up
    pid = stack.apis["intake"].popen.pid
    before, started = sample({"intake-api": pid}), time.perf_counter()
    for _ in range(sign_ins):
        signed_in = accounts.sign_in(tenant_id, email, PASSWORD)
    elapsed = time.perf_counter() - started
    cpu = spent(before, sample({"intake-api": pid}))["intake-api"]
    return {
        "sign_ins": sign_ins,
        "sign_in_cpu_ms": round(cpu / sign_ins * 1000, 1),
        "sign_in_wall_ms": round(elapsed / sign_ins * 1000, 1),
        "argon2id_verify_cpu_ms": _argon2_cpu_ms(),
        "argon2id_parameters": _argon2_parameters(),
        **_verification_in_planning(stack, signed_in.access_token, admin, verifications),
        "targets_ms": TARGETS_MS,
    }


def _argon2_cpu_ms(rounds: int = 10) -> float:
    stored = passwords.hash_password(PASSWORD)
    started = time.process_time()
    for _ in range(rounds):
        passwords.password_matches(stored, PASSWORD)
    return round((time.process_time() - started) / rounds * 1000, 1)


def _argon2_parameters() -> dict[str, int]:
    hasher = passwords.HASHER
    return {
        "time_cost": hasher.time_cost,
        "memory_kib": hasher.memory_cost,
        "parallelism": hasher.parallelism,
    }


def _verification_in_planning(
    stack: LocalStack, access_token: str, admin: StaffClient, count: int
) -> dict[str, Any]:
    env = stack.env("planning")
    app = planning_app(
        {
            "mongo_url": env["MONGO_URL"],
            "mongo_db": env["MONGO_DB"],
            "auth_public_pems": env["AUTH_PUBLIC_PEMS"],
        }
    )
    api_key = admin.session.headers["Authorization"]
    cpu = {}
    for name, header in (("token", f"Bearer {access_token}"), ("api_key", api_key)):
        with app.test_request_context("/plans", headers={"Authorization": header}):
            auth.authenticate()  # warm: keys parsed, the cache filled
            started = time.process_time()
            for _ in range(count):
                auth.authenticate()
            cpu[name] = (time.process_time() - started) / count * 1000
    keys = app.extensions[auth.TOKEN_KEYS].keys
    started = time.process_time()
    for _ in range(count):
        verify(access_token, keys)
    first_sight = (time.process_time() - started) / count * 1000
    return {
        "verifications": count,
        "token_verification_cpu_ms": round(cpu["token"], 4),
        "token_first_verification_cpu_ms": round(first_sight, 4),
        "api_key_lookup_cpu_ms": round(cpu["api_key"], 4),
    }
