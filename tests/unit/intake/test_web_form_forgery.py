"""The patient form's defences against cross-site request forgery: the form token and the origin."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner

from services.intake.web_form import forgery
from shared.config import load_settings

SETTINGS = load_settings("intake", environ={"PUBLIC_BASE_URL": "https://clinic.example.org/"})
OURS = ["https://clinic.example.org/", "http://10.0.0.5:8000/"]


def test_a_form_token_is_valid_for_the_link_whose_page_issued_it_only():
    token = forgery.form_token(SETTINGS, "link-a")

    assert forgery.is_form_token_valid(SETTINGS, "link-a", token)
    assert not forgery.is_form_token_valid(SETTINGS, "link-b", token)


def test_a_form_token_signed_with_another_secret_or_tampered_or_missing_is_refused():
    other = load_settings("intake", environ={"INTAKE_LINK_SECRET": "another-secret-of-16+"})
    forged = forgery.form_token(other, "link-a")
    token = forgery.form_token(SETTINGS, "link-a")
    for bad in (forged, token[:-2] + "zz", "", None, "not.a.token"):
        assert not forgery.is_form_token_valid(SETTINGS, "link-a", bad), bad


def test_a_form_token_lives_as_long_as_a_link(monkeypatch):
    token = forgery.form_token(SETTINGS, "link-a")
    later = int(time.time()) + SETTINGS.own.intake_link_ttl_hours * 3600 + 5
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    assert not forgery.is_form_token_valid(SETTINGS, "link-a", token)


def test_the_form_token_is_not_the_link_token_in_disguise():
    token = forgery.form_token(SETTINGS, "link-a")
    assert "link-a" not in token


@pytest.mark.parametrize(
    ("origin", "referer", "same"),
    [
        ("https://clinic.example.org", None, True),
        ("HTTPS://Clinic.Example.org", None, True),
        ("http://10.0.0.5:8000", None, True),
        (None, "https://clinic.example.org/intake/abc", True),
        (None, None, True),
        ("https://evil.example", None, False),
        ("https://clinic.example.org.evil.example", None, False),
        ("http://clinic.example.org", None, False),
        ("https://clinic.example.org:8443", None, False),
        ("null", None, False),
        ("", None, False),
        (None, "https://evil.example/intake/abc", False),
        ("https://evil.example", "https://clinic.example.org/intake/abc", False),
    ],
)
def test_a_post_is_same_origin_only_when_what_the_browser_says_names_this_site(
    origin, referer, same
):
    assert forgery.is_same_origin(origin, referer, OURS) is same
