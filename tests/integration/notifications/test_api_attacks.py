"""The notifications API under attack (in process, real stand-in database): MongoDB operators
in query parameters and JSON fields are refused or literal, never run; oversized bodies get 413
on its real write routes with a valid key; a revoked key is refused within the key cache's time;
each checks nothing stored changed."""

from __future__ import annotations

import json
import time

import pytest

from services.notifications.repository.template_overrides import TemplateOverrides
from shared.web.auth import CACHE_TTL_S, clear_cache
from testkit.fakes.sms_provider import INBOUND_SIGNATURE_HEADER, sign
from tests.integration.notifications import test_api as api
from tests.integration.notifications.harness import NOON_UTC
from tests.support.attacks import (
    body_attacks,
    everything_stored,
    ignored_or_refused,
    name_attacks,
    refused_or_literal,
    value_attacks,
)
from tests.support.key_cache import key_cache_aged
from tests.support.notifications_events import event, referral_accepted, staff_key

app, client, keys, referred = api.app, api.client, api.keys, api.referred  # the API's fixtures
PHONE, INBOUND_SECRET = api.PHONE, api.INBOUND_SECRET

DELIVERY_FILTERS = ("status", "recipient", "event_id", "event_type", "channel", "page", "page_size")
WRITES = [
    ("PUT", "/config", {"clinic_name": "Calm Hands", "language": "en", "timezone": "UTC"}),
    ("PUT", "/patients/pat-1/preferences", {"email": False, "sms": True}),
    ("PUT", "/templates/en/patient_welcome.sms", {"source": "Hi {{ clinic_name }}. STOP"}),
]


def signed(message: dict) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(message).encode()
    signature = sign(INBOUND_SECRET, raw, int(time.time()))
    return raw, {"Content-Type": "application/json", INBOUND_SIGNATURE_HEADER: signature}


def test_operators_in_the_delivery_logs_query_parameters_are_refused_or_literal(
    client, keys, referred
):
    before = everything_stored(referred.db)
    headers = keys["admin"]
    plain = client.get("/deliveries", headers=headers).get_json()
    assert plain["items"]  # there is something an operator could reveal
    for query in name_attacks(DELIVERY_FILTERS):
        answer = client.get("/deliveries", query_string=query, headers=headers)
        assert ignored_or_refused(answer.status_code, answer.get_json(), plain), query
    for query in value_attacks(DELIVERY_FILTERS):
        answer = client.get("/deliveries", query_string=query, headers=headers)
        assert refused_or_literal(answer.status_code, answer.get_json()), (query, answer.json)
    for query in value_attacks(("page", "page_size")):
        assert client.get("/templates", query_string=query, headers=headers).status_code == 422
    assert everything_stored(referred.db) == before


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[w[1] for w in WRITES])
def test_operators_in_json_fields_are_refused_and_nothing_is_stored(
    client, keys, referred, method, path, body
):
    before = everything_stored(referred.db)
    for field, attack in body_attacks(body):
        answer = client.open(path, method=method, json=attack, headers=keys["admin"])
        assert answer.status_code == 422, (field, attack, answer.get_json())
    nested = {"quiet_hours": {"start": {"$gt": ""}, "end": "09:00"}}
    assert client.put("/config", json=nested, headers=keys["admin"]).status_code == 422
    assert everything_stored(referred.db) == before


def test_operators_in_an_inbound_reply_are_refused_even_when_signed(client, referred):
    before = everything_stored(referred.db)
    for message in (
        {"id": "in_1", "from": {"$ne": None}, "body": "STOP"},
        {"id": "in_2", "from": PHONE, "body": {"$gt": ""}},
        {"id": {"$where": "1 == 1"}, "from": PHONE, "body": "STOP"},
    ):
        body, headers = signed(message)
        answer = client.post("/sms/inbound", data=body, headers=headers)
        assert answer.status_code == 422, (message, answer.get_json())
    assert everything_stored(referred.db) == before


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[w[1] for w in WRITES])
def test_an_oversized_body_on_a_real_write_route_gets_413_with_a_valid_key(
    client, keys, referred, settings, method, path, body
):
    before = everything_stored(referred.db)
    padded = {**body, "padding": "x" * settings.max_body_bytes}
    answer = client.open(
        path, method=method, data=json.dumps(padded), content_type="application/json",
        headers=keys["admin"],
    )  # fmt: skip
    assert answer.status_code == 413 and answer.get_json()["code"] == 413
    inbound = json.dumps({"from": PHONE, "body": "STOP", "x": "y" * settings.max_body_bytes})
    answer = client.post("/sms/inbound", data=inbound, content_type="application/json")
    assert answer.status_code == 413
    assert everything_stored(referred.db) == before


def test_a_revoked_key_is_refused_within_the_key_caches_time(client, referred):
    """As intake's `access.principal_revoked` reaches the notifications replica (its handler)."""
    clear_cache()
    raw, upserted = staff_key("admin")
    referred.handle(upserted)
    bearer = {"Authorization": f"Bearer {raw}"}
    assert client.get("/deliveries", headers=bearer).status_code == 200
    referred.handle(event("access.principal_revoked", {**upserted.data, "version": 2}))
    with key_cache_aged(CACHE_TTL_S):  # not sooner than the cache's time
        assert client.get("/deliveries", headers=bearer).status_code == 401
    before = everything_stored(referred.db)
    assert client.put("/config", json={"clinic_name": "X"}, headers=bearer).status_code == 401
    assert everything_stored(referred.db) == before


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[w[1] for w in WRITES])
def test_client_sent_bookkeeping_fields_are_refused_and_nothing_is_stored(
    client, keys, referred, method, path, body
):
    """Property 15 for the notifications API's writes."""
    before = everything_stored(referred.db)
    for field in ("tenant_id", "_id", "status", "updated_at", "file"):
        value = api.OTHER if field == "tenant_id" else "x"
        attack = {**body, field: value}
        answer = client.open(path, method=method, json=attack, headers=keys["admin"])
        assert answer.status_code == 422 and field in answer.get_json()["errors"]["json"], field
    assert everything_stored(referred.db) == before


def test_page_sizes_are_capped_on_every_list(client, keys, referred):
    """Property 16: the test app's MAX_PAGE_SIZE is 3 (`test_api.app`)."""
    overrides = TemplateOverrides(referred.db.template_overrides)
    for n, language in enumerate(("en", "es", "fr", "de")):
        overrides.put(api.TENANT, language, "patient_welcome.sms.j2", f"Hi {n}. STOP", NOON_UTC)
    referred.handle(referral_accepted("pat-2", email="two@example.org", referrer_email=None))
    for path in ("/templates", "/deliveries"):
        page = client.get(path, query_string={"page_size": 1000}, headers=keys["admin"]).get_json()
        assert (len(page["items"]), page["page_size"]) == (3, 3), path
        assert page["total"] >= 4, path
