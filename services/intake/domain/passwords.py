"""Staff passwords: the policy a new one must meet, and its argon2id hash.

The policy follows NIST SP 800-63B: at least 12 characters, not one of the most common
passwords (the 30,000 of zxcvbn's frequency list, compared without case), no composition
rules. Hashes are argon2id with parameters measured so that one verification costs about
75 ms of CPU on the project's 2-core machines (RFC 9106's memory-hard choice, 64 MiB, one pass,
one lane): a sign-in stays within about 100 ms. A hash records its parameters, so changing them
here re-hashes each password at its next sign-in (`needs_rehash`).
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 256
HASHER = PasswordHasher(time_cost=1, memory_cost=65_536, parallelism=1)


@functools.cache
def common_passwords() -> frozenset[str]:
    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str | None = None) -> dict[str, list[str]]:
    """`{"password": [why]}` when the password may not be used; empty when it may."""
    if len(password) < MIN_LENGTH:
        return {"password": [f"must be at least {MIN_LENGTH} characters long"]}
    if len(password) > MAX_LENGTH:
        return {"password": [f"must be at most {MAX_LENGTH} characters long"]}
    folded = password.casefold()
    if folded in common_passwords():
        return {"password": ["is one of the most common passwords; choose another"]}
    if email and folded in (email.casefold(), email.casefold().split("@")[0]):
        return {"password": ["may not be your email address"]}
    return {}


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Whether `password` is the one of `stored_hash`; with no hash (an unknown email, an
    invited user), the same work is done against a hash of nothing anyone knows."""
    try:
        return HASHER.verify(stored_hash or dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return HASHER.check_needs_rehash(stored_hash)


@functools.cache
def dummy_hash() -> str:
    """A hash with today's parameters of a random string (computed once per process)."""
    import secrets

    return HASHER.hash(secrets.token_urlsafe(32))
