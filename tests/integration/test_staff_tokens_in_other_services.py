"""Planning and notifications verify a signed-in person's access token with the public keys
alone, and refuse it once their replica hears that the user was disabled or changed, or that
the session ended (`access.user_updated`, `access.session_ended`, applied by
`shared.replicas`), within the cache's second; roles and locations apply as for API keys."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.app import create_app as notifications_app
from services.planning import bootstrap, consumers
from services.planning.app import create_app as planning_app
from services.planning.repository.indexes import create_indexes
from shared.events import new_event
from shared.mongo import Mongo
from shared.replicas import REVOCATIONS, replica_handlers
from shared.token_keys import development_keys, load_signing_key
from shared.tokens import AccessClaims, sign
from shared.web.auth import clear_cache
from testkit.waiting import wait_until
from tests.support import planning_data as data
from tests.support.staff_accounts import bearer

USER = "usr_0123456789abcdef0123"
SESSION = "sess_0123456789abcdef0123"
APPS = {"planning": (planning_app, "/plans"), "notifications": (notifications_app, "/deliveries")}


def token(
    keys: dict[str, str],
    *,
    tenant: str = data.TENANT,
    role: str = "therapist",
    locations: tuple[str, ...] | None = (data.LOCATION,),
    version: int = 1,
    scope: str = "all",
    issued_ago_s: int = 0,
    ttl_s: int = 300,
    signing_key: str | None = None,
) -> str:
    issued = int(time.time()) - issued_ago_s
    claims = AccessClaims(
        user_id=USER, tenant_id=tenant, role=role, name="Sam Ortiz", locations=locations,
        staff_session_id=SESSION, version=version, scope=scope, issued_at=issued,
        expires_at=issued + ttl_s,
    )  # fmt: skip
    return sign(claims, load_signing_key(signing_key or keys["AUTH_SIGNING_PEM"]))


def access_event(type_: str, **data_: object):
    return new_event(type_, source="clinic/intake", tenant_id=data.TENANT, data=data_)


def user_updated(status: str, version: int):
    return access_event(
        "access.user_updated", tenant_id=data.TENANT, user_id=USER, status=status,
        role="therapist", locations=[data.LOCATION], version=version,
    )  # fmt: skip


def session_ended():
    ends = (datetime.now(UTC) + timedelta(hours=12)).isoformat()
    return access_event(
        "access.session_ended", tenant_id=data.TENANT, user_id=USER, staff_session_id=SESSION,
        reason="signed_out", expires_at=ends,
    )  # fmt: skip


@pytest.fixture(params=sorted(APPS))
def service(request, make_settings):
    """One of the two services' apps (its own database, the test's public key) and a way to
    apply intake's access events to its replica, as its worker does."""
    name = request.param
    settings = make_settings(name)
    mongo = Mongo(settings)
    names = ("mongo_url", "mongo_db", "amqp_url", "auth_public_pems")
    make_app, path = APPS[name]
    app = make_app({n: getattr(settings, n) for n in names})
    clear_cache()
    handlers = replica_handlers(mongo.db.principals, mongo.db.locations, mongo.db[REVOCATIONS])

    class Service:
        client = app.test_client()
        list_path = path
        db = mongo.db

        @staticmethod
        def apply(event) -> bool:
            return handlers[event.type](event)

        def status(self, raw: str) -> int:
            return self.client.get(self.list_path, headers=bearer(raw)).status_code

    yield Service()
    mongo.close()


def test_a_token_is_verified_with_the_public_key_alone(service, token_keys):
    assert service.status(token(token_keys)) == 200
    assert service.status(token(token_keys, role="front_desk", locations=None)) == 200


def test_a_token_signed_by_another_key_an_expired_and_a_tampered_one_are_refused(
    service, token_keys, tmp_path
):
    other = development_keys(tmp_path)["AUTH_SIGNING_PEM"]
    good = token(token_keys)
    for refused in (
        token(token_keys, signing_key=other),
        token(token_keys, issued_ago_s=400),  # expired 100 s ago
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        good.replace(".", "x", 1),
    ):
        answer = service.client.get(service.list_path, headers=bearer(refused))
        assert answer.status_code == 401, answer.json
    assert service.status(good) == 200


def test_a_token_for_enrolling_a_second_factor_is_refused_with_a_clear_403(service, token_keys):
    answer = service.client.get(
        service.list_path, headers=bearer(token(token_keys, scope="enrol_totp"))
    )
    assert answer.status_code == 403 and "enrol a second factor" in answer.json["message"]


def test_a_disabled_users_token_is_refused_within_seconds_of_the_event(service, token_keys):
    raw = token(token_keys)
    assert service.status(raw) == 200  # cached as good
    assert service.apply(user_updated("disabled", version=2)) is True
    started = time.monotonic()
    wait_until(lambda: service.status(raw) == 401, timeout=5, message="the refusal")
    assert time.monotonic() - started < 2.5  # the cache's second, and some
    assert service.apply(user_updated("active", version=1)) is False  # older: never re-enables
    assert service.status(raw) == 401


def test_an_ended_sessions_token_is_refused_and_the_replica_forgets_it_at_its_end(
    service, token_keys
):
    raw = token(token_keys)
    assert service.status(raw) == 200
    assert service.apply(session_ended()) is True
    assert service.apply(session_ended()) is False  # a duplicate
    wait_until(lambda: service.status(raw) == 401, timeout=5, message="the refusal")
    stored = service.db[REVOCATIONS].find_one({"_id": f"session:{SESSION}"})
    assert stored["expires_at"] > datetime.now(UTC) + timedelta(hours=11)
    indexes = service.db[REVOCATIONS].index_information()
    assert indexes["expires"]["expireAfterSeconds"] == 0


def test_a_role_change_refuses_the_older_tokens_only(service, token_keys):
    old, new = token(token_keys, version=1), token(token_keys, version=2)
    service.apply(user_updated("active", version=2))
    wait_until(lambda: service.status(old) == 401, timeout=5, message="the old token refused")
    assert service.status(new) == 200


@pytest.fixture
def planning(make_settings):
    settings = make_settings("planning")
    mongo = Mongo(settings)
    create_indexes(mongo.db)
    data.insert_location(mongo.db)
    data.insert_location(mongo.db, "loc-uptown", "America/Chicago")
    names = ("mongo_url", "mongo_db", "amqp_url", "auth_public_pems")
    app = planning_app({n: getattr(settings, n) for n in names})
    clear_cache()
    deps = bootstrap.build(settings, mongo, cache_ttl_s=bootstrap.WORKER_CACHE_TTL_S)
    handlers = consumers.handlers(deps)
    handlers["intake.completed"](data.intake_event("intake.completed", data.intake_completed()))
    plan = mongo.db.plans.find_one({})
    yield app.test_client(), plan, mongo.db
    mongo.close()


def test_planning_answers_404_to_another_clinics_token_and_another_locations_therapist(
    planning, token_keys
):
    client, plan, db = planning
    path = f"/plans/{plan['_id']}"
    own = client.get(path, headers=bearer(token(token_keys)))
    assert own.status_code == 200
    for refused in (
        token(token_keys, tenant=data.OTHER_TENANT, role="admin", locations=None),
        token(token_keys, locations=("loc-uptown",)),
    ):
        answer = client.get(path, headers=bearer(refused))
        assert answer.status_code == 404 and plan["patient_id"] not in answer.get_data(as_text=True)
    read = db.audit.find_one({"action": "plan.read", "outcome": "ok"})
    assert (read["actor"], read["actor_name"]) == (f"user:{USER}", "Sam Ortiz")


def test_the_planning_worker_handles_the_revocation_events(make_settings):
    settings = make_settings("planning")
    mongo = Mongo(settings)
    handled = consumers.handlers(bootstrap.build(settings, mongo, cache_ttl_s=1))
    assert {"access.user_updated", "access.session_ended"} <= set(handled)
    mongo.close()
