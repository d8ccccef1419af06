"""Staff access tokens (shared/tokens.py) and their keys (shared/token_keys.py): EdDSA, a kid
that is the key's own thumbprint, refused when signed by another key, expired, tampered with,
for another audience or with missing claims."""

from __future__ import annotations

import time

import jwt
import pytest

from shared.token_keys import (
    KeyFileError,
    development_keys,
    generate,
    key_id,
    load_public_keys,
    load_signing_key,
)
from shared.tokens import AccessClaims, InvalidToken, TokenVerifier, sign, verify


@pytest.fixture
def keys(tmp_path):
    made = development_keys(tmp_path / "auth")
    return load_signing_key(made["AUTH_SIGNING_PEM"]), load_public_keys(made["AUTH_PUBLIC_PEMS"])


def claims(**changes) -> AccessClaims:
    now = int(time.time())
    values = dict(
        user_id="usr_0123456789abcdef0123", tenant_id="clinic-a", role="therapist", name="Sam",
        locations=("main",), staff_session_id="sess_0123456789abcdef0123", version=2, scope="all",
        issued_at=now, expires_at=now + 300,
    )  # fmt: skip
    return AccessClaims(**{**values, **changes})


def test_a_token_signed_with_the_key_verifies_with_its_public_key_alone(keys):
    signing, public = keys
    raw = sign(claims(), signing)
    assert jwt.get_unverified_header(raw) == {"alg": "EdDSA", "kid": signing.kid, "typ": "at+jwt"}
    assert verify(raw, public) == claims(issued_at=claims().issued_at)


def test_the_kid_is_the_keys_own_thumbprint_whatever_the_file_is_called(tmp_path, keys):
    signing, public = keys
    assert list(public) == [signing.kid] == [key_id(signing.private_key.public_key())]
    made = generate(tmp_path / "p", tmp_path / "q")
    (tmp_path / "q" / f"{made['kid']}.pem").rename(tmp_path / "q" / "renamed.pem")
    assert list(load_public_keys(tmp_path / "q")) == [made["kid"]]
    assert list(load_public_keys(tmp_path / "q" / "renamed.pem")) == [made["kid"]]


def test_a_directory_holds_several_public_keys_for_rotation(tmp_path):
    first = generate(tmp_path / "private", tmp_path / "public")
    second = generate(tmp_path / "private", tmp_path / "public")
    keys = load_public_keys(tmp_path / "public")
    assert set(keys) == {first["kid"], second["kid"]}
    for made in (first, second):
        assert verify(sign(claims(), load_signing_key(made["private"])), keys).user_id


def test_a_private_key_or_an_empty_directory_is_not_taken_for_public_keys(tmp_path):
    made = generate(tmp_path / "private", tmp_path / "public")
    with pytest.raises(KeyFileError, match="not a readable PEM public key"):
        load_public_keys(tmp_path / "private")
    (tmp_path / "empty").mkdir()
    with pytest.raises(KeyFileError, match="no public key"):
        load_public_keys(tmp_path / "empty")
    with pytest.raises(KeyFileError):
        load_signing_key(made["public"])


def test_a_token_of_another_key_an_expired_or_tampered_one_is_refused(keys, tmp_path):
    signing, public = keys
    other = load_signing_key(development_keys(tmp_path / "other")["AUTH_SIGNING_PEM"])
    now = int(time.time())
    good = sign(claims(), signing)
    cases = {
        "the token is not signed by a key this service knows": sign(claims(), other),
        "the token has expired: refresh it": sign(
            claims(issued_at=now - 400, expires_at=now - 100), signing
        ),
        "the token's signature or claims are not valid": good[:-3]
        + ("AAA" if not good.endswith("AAA") else "BBB"),
        "not a well-formed token": "not.a.token",
    }
    for message, raw in cases.items():
        with pytest.raises(InvalidToken, match=message):
            verify(raw, public)


def test_a_token_with_an_own_made_header_or_missing_claims_is_refused(keys):
    signing, public = keys
    payload = claims().to_payload()
    wrong_audience = jwt.encode({**payload, "aud": "elsewhere"}, signing.private_key,
                                algorithm="EdDSA", headers={"kid": signing.kid, "typ": "at+jwt"})  # fmt: skip
    no_version = {k: v for k, v in payload.items() if k != "ver"}
    missing = jwt.encode(no_version, signing.private_key, algorithm="EdDSA",
                         headers={"kid": signing.kid, "typ": "at+jwt"})  # fmt: skip
    untyped = jwt.encode(
        payload, signing.private_key, algorithm="EdDSA", headers={"kid": signing.kid}
    )
    hmac = jwt.encode(
        payload, "s" * 64, algorithm="HS256", headers={"kid": signing.kid, "typ": "at+jwt"}
    )
    bad_scope = jwt.encode({**payload, "scope": "root"}, signing.private_key, algorithm="EdDSA",
                           headers={"kid": signing.kid, "typ": "at+jwt"})  # fmt: skip
    for raw in (wrong_audience, missing, untyped, hmac, bad_scope):
        with pytest.raises(InvalidToken):
            verify(raw, public)


def test_the_verifier_checks_a_token_once_and_its_expiry_at_every_use(keys, tmp_path):
    signing, public = keys
    now = [time.time()]
    verifier = TokenVerifier(public, clock=lambda: now[0])
    raw = sign(claims(), signing)
    assert verifier.verify(raw) == verifier.verify(raw)
    now[0] += 306  # past its expiry and the leeway
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(raw)
    other = load_signing_key(development_keys(tmp_path / "other")["AUTH_SIGNING_PEM"])
    for _ in range(2):  # a refusal is not remembered as good
        with pytest.raises(InvalidToken):
            verifier.verify(sign(claims(), other))
    with pytest.raises(InvalidToken):
        TokenVerifier({}).verify(raw)
