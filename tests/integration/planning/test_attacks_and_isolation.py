"""Planning's API under attack (in process, real stand-in database): another clinic's plans,
sessions, measurements and progress are not found (property 13); MongoDB operators in query
parameters and JSON fields are refused (422), never run; client-sent `tenant_id`, `status`,
`_id` are refused (property 15); oversized bodies get 413 and page sizes are capped (property
16); a revoked key is refused within the key cache's time. Each checks nothing stored changed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from services.planning.app import create_app
from shared.web.auth import CACHE_TTL_S, clear_cache
from tests.support import planning_data as data
from tests.support.attacks import (
    body_attacks,
    everything_stored,
    ignored_or_refused,
    name_attacks,
    refused_or_literal,
    value_attacks,
)
from tests.support.key_cache import key_cache_aged
from tests.support.planning_api import InProcess, PlanningApi


@pytest.fixture
def api(client):
    return PlanningApi(InProcess(client))


def local(days: int, hour: int = 10) -> str:
    return datetime.combine(date.today() + timedelta(days=days), time(hour)).strftime(
        "%Y-%m-%dT%H:%M"
    )


@pytest.fixture
def clinic_a(db, deliver, api, keys):
    """An active plan of clinic-north with a completed session (a measurement, so progress)
    and a scheduled one."""
    intake = data.intake_completed()
    deliver(data.intake_event("intake.completed", intake))
    plan_id = db.plans.find_one({"referral_id": intake["referral_id"]})["_id"]
    assert api.approve(keys.therapist, plan_id).status == 200
    done = api.schedule(keys.therapist, plan_id, local(-1)).body["session_id"]
    measured = api.complete_session(
        keys.therapist, plan_id, done, [{"measure": "NPRS", "score": 4}]
    )
    assert measured.status == 200, measured.body
    coming = api.schedule(keys.therapist, plan_id, local(3)).body["session_id"]
    return {"plan_id": plan_id, "done": done, "coming": coming, "patient": intake["patient_id"]}


# --- property 13: another clinic's objects ---------------------------------------------------


def test_another_clinic_reads_none_of_a_plans_sessions_measurements_or_progress(
    api, keys, clinic_a, db
):
    plan, done = clinic_a["plan_id"], clinic_a["done"]
    t = api.transport
    for path in (
        f"/plans/{plan}",
        f"/plans/{plan}/history",
        f"/plans/{plan}/progress",
        f"/plans/{plan}/sessions",
        f"/plans/{plan}/sessions/{done}",
    ):
        assert t.call("GET", path, keys.other_admin).status == 404, path
        assert t.call("GET", path, keys.admin).status == 200, path  # it is there for clinic-north
    listed = t.call("GET", "/plans", keys.other_admin, patient_id=clinic_a["patient"]).body
    assert listed["items"] == [] and listed["total"] == 0
    window = {"from": f"{local(-2)}:00Z", "to": f"{local(5)}:00Z"}
    assert t.call("GET", "/sessions", keys.other_admin, **window).body["items"] == []
    assert len(t.call("GET", "/sessions", keys.admin, **window).body["items"]) == 2


def test_another_clinic_changes_none_of_a_plans_sessions_or_measurements(api, keys, clinic_a, db):
    plan, done, coming = clinic_a["plan_id"], clinic_a["done"], clinic_a["coming"]
    before = everything_stored(db)
    t, other = api.transport, keys.other_admin
    attempts = [
        ("PATCH", f"/plans/{plan}", {"version": 2, "frequency_per_week": 3}),
        ("POST", f"/plans/{plan}/sessions", {"therapist_id": "th-1", "starts_at_local": local(4)}),
        ("POST", f"/plans/{plan}/sessions/{coming}/reschedule", {"starts_at_local": local(6)}),
        ("POST", f"/plans/{plan}/sessions/{coming}/cancel", {"reason": "x", "cancelled_by": "clinic"}),
        ("POST", f"/plans/{plan}/sessions/{coming}/no-show", None),
        ("POST", f"/plans/{plan}/sessions/{done}/complete", {"measurements": [{"measure": "NPRS", "score": 9}]}),
        ("POST", f"/plans/{plan}/complete", {"version": 2, "reason": "x"}),
        ("POST", f"/plans/{plan}/discontinue", {"version": 2, "reason": "x"}),
    ]  # fmt: skip
    for method, path, body in attempts:
        reply = t.call(method, path, other, json=body)
        assert reply.status in (404, 422), (path, reply.status, reply.body)
        assert reply.status == 404 or path.endswith(("/complete", "/discontinue")), reply.body
    assert everything_stored(db) == before


# --- MongoDB operator injection ------------------------------------------------------------


LISTS = {
    "/plans": ("status", "location_id", "patient_id", "referral_id", "page", "page_size"),
    "/sessions": ("from", "to", "therapist_id", "location_id", "room_id", "page"),
}


@pytest.mark.parametrize("path", sorted(LISTS))
def test_operators_in_query_parameters_are_refused_or_literal_never_run(
    api, keys, clinic_a, db, path
):
    before = everything_stored(db)
    window = {"from": f"{local(-2)}:00Z", "to": f"{local(5)}:00Z"} if path == "/sessions" else {}
    plain = api.transport.call("GET", path, keys.admin, **window).body
    assert plain["items"]  # there is something an operator could reveal
    for query in name_attacks(LISTS[path]):
        reply = api.transport.call("GET", path, keys.admin, **window, **query)
        assert ignored_or_refused(reply.status, reply.body, plain), (query, reply.status)
    for query in value_attacks(LISTS[path]):
        reply = api.transport.call("GET", path, keys.admin, **{**window, **query})
        assert refused_or_literal(reply.status, reply.body), (query, reply.status, reply.body)
    plan = clinic_a["plan_id"]
    for query in value_attacks(("page", "page_size")):
        for sub in (f"/plans/{plan}/sessions", f"/plans/{plan}/history"):
            reply = api.transport.call("GET", sub, keys.admin, **query)
            assert reply.status == 422, (sub, query, reply.body)
    assert everything_stored(db) == before


def test_operators_in_json_fields_are_refused_and_nothing_is_stored(api, keys, clinic_a, db):
    plan, coming, done = clinic_a["plan_id"], clinic_a["coming"], clinic_a["done"]
    writes = [
        ("POST", f"/plans/{plan}/sessions", {"therapist_id": "th-2", "starts_at_local": local(5), "room_id": "room-9"}),
        ("POST", f"/plans/{plan}/sessions/{coming}/reschedule", {"starts_at_local": local(6)}),
        ("POST", f"/plans/{plan}/sessions/{coming}/cancel", {"reason": "ill", "cancelled_by": "patient"}),
        ("POST", f"/plans/{plan}/sessions/{done}/complete", {"measurements": [{"measure": "NPRS", "score": 2}]}),
        ("PATCH", f"/plans/{plan}", {"version": 2, "frequency_per_week": 3}),
        ("POST", f"/plans/{plan}/discontinue", {"version": 2, "reason": "moved"}),
        ("PUT", "/settings", {"booking_horizon_days": 30}),
    ]  # fmt: skip
    before = everything_stored(db)
    for method, path, body in writes:
        for field, attack in body_attacks(body):
            reply = api.transport.call(method, path, keys.admin, json=attack)
            assert reply.status == 422, (path, field, attack, reply.status, reply.body)
    nested = {"measurements": [{"measure": {"$ne": None}, "score": {"$gt": 0}}]}
    reply = api.transport.call(
        "POST", f"/plans/{plan}/sessions/{done}/complete", keys.admin, json=nested
    )
    assert reply.status == 422, reply.body
    assert everything_stored(db) == before


# --- property 15: mass assignment ------------------------------------------------------------


@pytest.mark.parametrize("field", ["tenant_id", "status", "_id", "plan_id", "session_id", "rev"])
def test_client_sent_bookkeeping_fields_are_refused_and_nothing_is_stored(
    api, keys, clinic_a, db, field
):
    plan, coming = clinic_a["plan_id"], clinic_a["coming"]
    before = everything_stored(db)
    value = data.OTHER_TENANT if field == "tenant_id" else "completed"
    for method, path, body in (
        ("POST", f"/plans/{plan}/sessions", {"therapist_id": "th-2", "starts_at_local": local(5)}),
        ("POST", f"/plans/{plan}/sessions/{coming}/reschedule", {"starts_at_local": local(6)}),
        ("PATCH", f"/plans/{plan}", {"version": 2, "frequency_per_week": 3}),
        ("PUT", "/settings", {"booking_horizon_days": 30}),
    ):
        reply = api.transport.call(method, path, keys.admin, json={**body, field: value})
        assert reply.status == 422, (path, reply.body)
        assert field in reply.body["errors"]["json"], reply.body
    assert everything_stored(db) == before


# --- property 16: limits --------------------------------------------------------------------


def test_an_oversized_body_on_a_real_write_route_gets_413_with_a_valid_key(
    client, keys, clinic_a, db, planning_settings
):
    before = everything_stored(db)
    too_large = b'{"therapist_id": "' + b"x" * planning_settings.max_body_bytes + b'"}'
    plan = clinic_a["plan_id"]
    for path in (f"/plans/{plan}/sessions", f"/plans/{plan}/approve"):
        answer = client.post(
            path, data=too_large, content_type="application/json",
            headers={"Authorization": f"Bearer {keys.admin}"},
        )  # fmt: skip
        assert answer.status_code == 413 and answer.get_json()["code"] == 413
    assert everything_stored(db) == before


def test_page_sizes_are_capped_on_every_list(planning_settings, db, deliver, keys):
    names = ("mongo_url", "mongo_db", "amqp_url")
    app = create_app({**{n: getattr(planning_settings, n) for n in names}, "max_page_size": 2})
    api = PlanningApi(InProcess(app.test_client()))
    plan_ids = []
    for _ in range(3):
        intake = data.intake_completed()
        deliver(data.intake_event("intake.completed", intake))
        plan_ids.append(db.plans.find_one({"referral_id": intake["referral_id"]})["_id"])
    assert api.approve(keys.therapist, plan_ids[0]).status == 200
    for day in (1, 2, 3):
        assert api.schedule(keys.therapist, plan_ids[0], local(day)).status == 201
    window = {"from": f"{local(0)}:00Z", "to": f"{local(5)}:00Z"}
    for path, query in (
        ("/plans", {}),
        ("/sessions", window),
        (f"/plans/{plan_ids[0]}/sessions", {}),
    ):
        page = api.transport.call("GET", path, keys.admin, page_size=1000, **query).body
        assert (len(page["items"]), page["page_size"], page["total"]) == (2, 2, 3), path


# --- a revoked key ---------------------------------------------------------------------------


def test_a_revoked_key_is_refused_within_the_key_caches_time(client, db, deliver):
    """As intake's `access.principal_revoked` reaches planning's replica (its handler)."""
    clear_cache()
    raw, upserted = data.principal_upserted("admin")
    deliver(upserted)
    api = PlanningApi(InProcess(client))
    assert api.plans(raw).status == 200
    revoked = {**upserted.data, "version": 2}
    deliver(data.intake_event("access.principal_revoked", revoked))
    with key_cache_aged(CACHE_TTL_S):  # not sooner than the cache's time
        assert api.plans(raw).status == 401
    assert db.principals.find_one({"key_id": upserted.data["key_id"]})["revoked"] is True
