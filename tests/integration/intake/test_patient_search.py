"""Staff find a patient with `GET /patients`: by a name prefix (case and accents ignored, every
word typed the start of one of the patient's names), birth date, identifier (an MRN) or phone,
each narrowing the others, in pages by family then given name; never a patient at a location the
caller may not see; each filter served by an index that leads with the tenant; patients stored
before the search key get it from `cli backfill-patient-search`."""

from __future__ import annotations

import json

import pytest

from services.intake import cli
from services.intake.bootstrap import bootstrap
from services.intake.repository.indexes import INDEXES, PATIENTS
from services.intake.usecases import patients
from shared.mongo import Mongo
from shared.paging import PageRequest
from shared.web.auth import Principal
from testkit.mongo_commands import CommandCapture
from testkit.referrals import native_referral
from testkit.staff import bearer
from tools.bench.indexes import Index, best_index

PEOPLE = {
    "maria": {"given_name": "María José", "family_name": "Álvarez-Núñez", "birth_date": "1978-04-12",
              "phone": "(617) 555-0134", "mrn": "MRN-558201", "location": "main"},
    "mario": {"given_name": "Mario", "family_name": "Alvarado", "birth_date": "1980-01-02",
              "phone": "(617) 555-0199", "mrn": "MRN-1", "location": "uptown"},
    "joe": {"given_name": "Joe", "family_name": "Smith", "birth_date": "1978-04-12",
            "phone": None, "mrn": "X-77", "location": "main"},
}  # fmt: skip


def referral_for(who: dict) -> dict:
    base = native_referral(location_id=who["location"])
    base["patient"] = {
        **base["patient"],
        "given_name": who["given_name"],
        "family_name": who["family_name"],
        "birth_date": who["birth_date"],
        "phone": who["phone"],
        "email": None,
        "identifiers": [{"system": "urn:clinic:mrn", "value": who["mrn"]}],
    }
    return base


@pytest.fixture
def people(client, front_desk) -> dict[str, str]:
    made = {}
    for key, who in PEOPLE.items():
        answer = client.post(
            "/referrals",
            data=json.dumps(referral_for(who)),
            content_type="application/json",
            headers=bearer(front_desk),
        )
        assert answer.status_code == 201, answer.json
        made[key] = answer.json["patient_id"]
    return made


def found(client, key, query: str) -> list[str]:
    answer = client.get(f"/patients?{query}", headers=bearer(key))
    assert answer.status_code == 200, answer.json
    return [item["patient_id"] for item in answer.json["items"]]


def test_a_name_prefix_finds_patients_whatever_the_case_and_accents(client, world, people):
    admin = world.key("clinic-a", "admin")
    assert found(client, admin, "name=alv") == [people["mario"], people["maria"]]  # Alvarado first
    assert found(client, admin, "name=%C3%81LVAREZ") == [people["maria"]]
    assert found(client, admin, "name=nunez") == [people["maria"]]
    assert found(client, admin, "name=jos%C3%A9 alv") == [people["maria"]]
    assert found(client, admin, "name=mar alv") == [people["mario"], people["maria"]]
    assert found(client, admin, "name=lvarez") == []  # a prefix, never the middle of a word
    assert found(client, admin, "name=smith joe") == [people["joe"]]


def test_birth_date_identifier_and_phone_match_and_narrow_each_other(client, world, people):
    admin = world.key("clinic-a", "admin")
    assert found(client, admin, "birth_date=1978-04-12") == [people["maria"], people["joe"]]
    assert found(client, admin, "birth_date=1978-04-12&name=smi") == [people["joe"]]
    assert found(client, admin, "identifier=mrn558201") == [people["maria"]]
    assert found(client, admin, "identifier=MRN-55") == []  # an identifier matches whole
    assert found(client, admin, "phone=%2B16175550134") == [people["maria"]]
    assert found(client, admin, "phone=617-555-0134") == [people["maria"]]
    assert found(client, admin, "phone=617-555-0134&name=smith") == []


def test_a_search_never_shows_a_patient_the_caller_may_not_see(client, world, people):
    therapist = world.key("clinic-a", "therapist", locations=["main"])
    assert found(client, therapist, "name=alv") == [people["maria"]]
    assert found(client, world.key("clinic-b", "admin"), "name=alv") == []


def test_pages_are_in_name_order_with_the_total(client, world, people):
    admin = world.key("clinic-a", "admin")
    answer = client.get("/patients?name=a&page_size=1&page=2", headers=bearer(admin)).json
    assert (answer["total"], answer["page"]) == (2, 2)
    assert [p["patient_id"] for p in answer["items"]] == [people["maria"]]
    assert "search" not in answer["items"][0] and "match_keys" not in answer["items"][0]


def test_bad_filters_are_refused_naming_the_query_field(client, world):
    admin = world.key("clinic-a", "admin")
    for query, field in [("phone=12", "phone"), ("phone=hello there", "phone"),
                         ("birth_date=12/04/1978", "birth_date"), ("name=--", "name")]:  # fmt: skip
        answer = client.get(f"/patients?{query}", headers=bearer(admin))
        assert answer.status_code == 422 and field in answer.json["errors"]["query"], query


@pytest.mark.parametrize(
    "filters",
    [
        {"name": "alv"},
        {"name": "alv mar"},
        {"birth_date": "1978-04-12"},
        {"identifier": "MRN-1"},
        {"phone": "+16175550134"},
        {},
    ],
)
def test_each_search_filter_is_served_by_an_index_that_leads_with_the_tenant(
    settings, world, filters
):
    shapes: list[dict] = []

    class Shapes(CommandCapture):
        def started(self, event):
            if event.command_name == "find" and event.command.get("find") == PATIENTS:
                shapes.append(dict(event.command["filter"]))

    mongo = Mongo(settings, listeners=[Shapes()])
    staff = Principal(key_id="k", tenant_id="clinic-a", role="front_desk", name="desk")
    patients.search_patients(bootstrap(settings, mongo), staff, PageRequest(), filters)
    mongo.close()
    declared = [Index(m.document["name"], tuple(m.document["key"])) for m in INDEXES[PATIENTS]]
    [shape] = shapes
    assert "$regex" not in json.dumps(shape)
    name, _used = best_index(shape, declared) or ("none", 0)
    index = next(i for i in declared if i.name == name)
    assert index.keys[0] == "tenant_id", (shape, name)
    if filters:
        assert index.keys[1] != "search.sort", (shape, name)  # the filter itself is on the index


def test_the_backfill_gives_patients_stored_before_the_search_key_theirs(
    client, world, people, db, settings
):
    db[PATIENTS].update_many({}, {"$unset": {"search": ""}})
    admin = world.key("clinic-a", "admin")
    assert found(client, admin, "name=alv") == []
    assert cli.main(["backfill-patient-search"], settings=settings) == 0
    assert found(client, admin, "name=alv") == [people["mario"], people["maria"]]
    assert cli.main(["backfill-patient-search", "--tenant", "clinic-a"], settings=settings) == 0
