"""The staff's referral inbox over `GET /referrals`: newest first, filtered by status, location,
partner and arrival (each narrowing the others, never widening what the caller may see), each
filter on an index that leads with the tenant; and `GET /auth/me` names the clinic as the person
may see it (locations with their time zones, the idle timeout)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.intake.bootstrap import bootstrap
from services.intake.repository.indexes import INDEXES, REFERRALS
from services.intake.usecases import referrals
from shared.mongo import Mongo
from shared.paging import PageRequest
from shared.web.auth import Principal
from testkit.mongo_commands import CommandCapture
from testkit.referrals import native_referral
from testkit.staff import bearer
from tests.support.staff_accounts import StaffAccounts
from tools.bench.indexes import Index, best_index


def submit(client, key, **changes) -> str:
    body = json.dumps(native_referral(**changes))
    answer = client.post(
        "/referrals", data=body, content_type="application/json", headers=bearer(key)
    )
    assert answer.status_code == 201, answer.json
    return answer.json["referral_id"]


def listed(client, key, query: str = "") -> list[str]:
    answer = client.get(f"/referrals?{query}", headers=bearer(key))
    assert answer.status_code == 200, answer.json
    return [item["referral_id"] for item in answer.json["items"]]


@pytest.fixture
def inbox(client, world, partner_key, front_desk):
    """Three referrals, oldest first: acme-ehr's at main, the front desk's at uptown, and a held
    one from acme-ehr (no authorized visits)."""
    world.partner("other-ehr", ["clinic-a"])
    made = {
        "acme_main": submit(client, partner_key, location_id="main"),
        "desk_uptown": submit(client, front_desk, location_id="uptown"),
        "acme_held": submit(client, partner_key, location_id="main", authorized_visits=None),
    }
    return made


def test_the_inbox_lists_newest_first_and_each_filter_narrows_it(client, world, inbox):
    admin = world.key("clinic-a", "admin")
    assert listed(client, admin) == [inbox["acme_held"], inbox["desk_uptown"], inbox["acme_main"]]
    assert listed(client, admin, "status=needs_review") == [inbox["acme_held"]]
    assert listed(client, admin, "location_id=uptown") == [inbox["desk_uptown"]]
    assert listed(client, admin, "partner_id=acme-ehr") == [inbox["acme_held"], inbox["acme_main"]]
    assert listed(client, admin, "partner_id=acme-ehr&status=accepted") == [inbox["acme_main"]]
    assert listed(client, admin, "partner_id=other-ehr") == []
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    assert listed(client, admin, f"received_since={future.replace('+', '%2B')}") == []
    assert len(listed(client, admin, f"received_since={past.replace('+', '%2B')}")) == 3


def test_a_location_filter_never_widens_what_a_limited_key_may_see(client, world, inbox):
    therapist = world.key("clinic-a", "therapist", locations=["main"])
    assert listed(client, therapist, "location_id=uptown") == []
    assert set(listed(client, therapist)) == {inbox["acme_main"], inbox["acme_held"]}
    other_clinic = world.key("clinic-b", "admin")
    assert listed(client, other_clinic, "partner_id=acme-ehr") == []


def test_a_partner_filter_does_not_show_a_partner_another_partners_referrals(client, world, inbox):
    other = world.key("clinic-a", "partner", partner_id="other-ehr")
    assert listed(client, other, "partner_id=acme-ehr") == []


def test_bad_filters_are_refused_naming_the_query_field(client, world):
    admin = world.key("clinic-a", "admin")
    for query, field in [
        ("status=new", "status"),
        ("received_since=yesterday", "received_since"),
        ("received_since=2026-01-01T10:00:00", "received_since"),  # no offset: whose 10:00?
        ("location_id=", "location_id"),
    ]:
        answer = client.get(f"/referrals?{query}", headers=bearer(admin))
        assert answer.status_code == 422 and field in answer.json["errors"]["query"], query


@pytest.mark.parametrize(
    "filters",
    [
        {"status": "accepted"},
        {"location_id": "main"},
        {"partner_id": "acme-ehr"},
        {"received_since": datetime(2026, 1, 1, tzinfo=UTC)},
    ],
)
def test_each_inbox_filter_is_served_by_an_index_that_leads_with_the_tenant(
    settings, world, filters
):
    filters_seen: list[dict] = []

    class Shapes(CommandCapture):
        def started(self, event):
            if event.command_name == "find" and event.command.get("find") == REFERRALS:
                filters_seen.append(dict(event.command["filter"]))

    mongo = Mongo(settings, listeners=[Shapes()])
    staff = Principal(key_id="k", tenant_id="clinic-a", role="front_desk", name="desk")
    referrals.list_referrals(bootstrap(settings, mongo), staff, filters, PageRequest())
    mongo.close()
    declared = [Index(m.document["name"], tuple(m.document["key"])) for m in INDEXES[REFERRALS]]
    [shape] = filters_seen
    name, used = best_index(shape, declared) or ("none", 0)
    index = next(i for i in declared if i.name == name)
    assert index.keys[0] == "tenant_id" and used >= 2, (shape, name)


def test_me_names_the_clinic_with_the_time_zones_of_the_locations_the_person_may_see(app, world):
    accounts = StaffAccounts(app)
    person = accounts.person("clinic-a", "sam@clinic-a.example", "therapist", ["uptown"])
    token = accounts.tokens(person)["access_token"]
    elsewhere = accounts.person("clinic-a", "kim@clinic-a.example", "therapist", ["main"])
    me = accounts.client.get("/auth/me", headers=bearer(token)).json
    therapists = me["clinic"].pop("therapists")
    mine = {"user_id": person.user_id, "name": "Therapist Tester", "locations": ["uptown"]}
    assert mine in therapists  # whom the person's calendar books: only at their locations
    assert elsewhere.user_id not in [t["user_id"] for t in therapists]
    assert me["clinic"] == {
        "tenant_id": "clinic-a",
        "name": "Clinic-A",
        "session_idle_minutes": 15,
        "locations": [
            {"location_id": "uptown", "name": "Uptown", "timezone": "America/Chicago", "rooms": []}
        ],
    }
    assert me["role"] == "therapist"


def test_every_staff_role_may_list_the_clinics_partners_for_the_inbox_filter(client, world):
    world.partner("acme-ehr", ["clinic-a"])
    for role in ("admin", "front_desk", "therapist"):
        answer = client.get("/admin/partners", headers=bearer(world.key("clinic-a", role)))
        assert answer.status_code == 200, (role, answer.json)
        assert [p["partner_id"] for p in answer.json["items"]] == ["acme-ehr"]
    partner = world.key("clinic-a", "partner", partner_id="acme-ehr")
    assert client.get("/admin/partners", headers=bearer(partner)).status_code == 403
