from __future__ import annotations

import base64
import json
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from services.intake.domain import intake_link
from shared.config import load_settings

SETTINGS = load_settings("intake", environ={"PUBLIC_BASE_URL": "https://clinic.example.org/"})


def test_a_link_carries_only_the_referral_id_and_a_nonce():
    link = intake_link.link_for(SETTINGS, "ref_123", "nonce-1")
    assert link.startswith("https://clinic.example.org/intake/")
    token = link.rsplit("/", 1)[1]
    payload = token.split(".")[0]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims == {"r": "ref_123", "n": "nonce-1"}
    assert intake_link.read_token(SETTINGS, token) == intake_link.LinkClaims("ref_123", "nonce-1")


def test_a_tampered_or_foreign_token_is_refused():
    token = intake_link.new_token(SETTINGS, "ref_123", "n")
    forged = URLSafeTimedSerializer("another-secret-of-16+", salt=intake_link.SALT).dumps(
        {"r": "ref_123", "n": "n"}
    )
    for bad in (token[:-2] + "xx", forged, "not-a-token"):
        with pytest.raises(intake_link.InvalidLink, match="not valid"):
            intake_link.read_token(SETTINGS, bad)


def test_an_expired_token_is_refused(monkeypatch):
    token = intake_link.new_token(SETTINGS, "ref_123", "n")
    later = int(time.time()) + SETTINGS.own.intake_link_ttl_hours * 3600 + 5
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    with pytest.raises(intake_link.InvalidLink, match="expired"):
        intake_link.read_token(SETTINGS, token)
