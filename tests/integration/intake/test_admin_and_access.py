"""Tenants, locations, API keys and partners: the ops CLI, the admin API, the `access.*` events,
and mass assignment refused."""

from __future__ import annotations

import json

import pytest

from services.intake import cli
from services.intake.app import create_app
from services.intake.repository import indexes
from shared.web.auth import hash_key
from testkit.referrals import native_referral
from testkit.staff import bearer


def run_cli(settings, capsys, *argv):
    code = cli.main(list(argv), settings=settings)
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else captured.err)


def test_ops_create_the_first_tenant_and_admin_whose_key_works_once_printed(
    settings, client, db, capsys
):
    code, tenant = run_cli(
        settings,
        capsys,
        "create-tenant",
        "--name",
        "Northside Massage",
        "--location",
        "Main:America/New_York",
        "--location",
        "Harbor:America/Los_Angeles",
    )
    assert code == 0
    assert (tenant["_id"], [m["location_id"] for m in tenant["locations"]]) == (
        "northside-massage",
        ["main", "harbor"],
    )
    code, key = run_cli(
        settings,
        capsys,
        "create-key",
        "--tenant",
        "northside-massage",
        "--role",
        "admin",
        "--name",
        "Dana",
    )
    assert code == 0
    stored = db.principals.find_one({"key_id": key["key_id"]})
    assert stored["_id"] == hash_key(key["key"]) and key["key"] not in json.dumps(
        stored, default=str
    )
    assert (
        client.get("/admin/tenant", headers=bearer(key["key"])).json["name"] == "Northside Massage"
    )


def test_ops_create_and_allow_a_partner_and_its_key_is_bound_to_one_clinic(settings, world, capsys):
    create_its_key = [
        "create-key",
        "--tenant",
        "clinic-a",
        "--role",
        "partner",
        "--name",
        "EHR",
        "--partner",
        "partner-example",
    ]
    assert (
        run_cli(
            settings,
            capsys,
            "create-partner",
            "--id",
            "partner-example",
            "--name",
            "Example Network",
            "--no-broker-user",
        )[0]
        == 0
    )
    code, error = run_cli(settings, capsys, *create_its_key)
    assert code == 1 and "may not refer" in error
    assert (
        run_cli(
            settings,
            capsys,
            "allow-partner",
            "--partner",
            "partner-example",
            "--tenant",
            "clinic-a",
        )[0]
        == 0
    )
    code, key = run_cli(settings, capsys, *create_its_key)
    assert code == 0 and (key["partner_id"], key["tenant_id"], key["role"]) == (
        "partner-example",
        "clinic-a",
        "partner",
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["create-tenant", "--name", "X", "--location", "Main:Mars/Olympus"],
        ["create-partner", "--id", "bad.id", "--name", "X", "--no-broker-user"],
    ],
)
def test_the_cli_names_what_is_wrong(settings, world, capsys, argv):
    code, error = run_cli(settings, capsys, *argv)
    assert code == 1 and ("timezone" in error or "partner_id" in error)


def test_a_location_has_rooms_that_keep_their_ids_and_an_edit_without_them_keeps_them(
    client, world
):
    admin = bearer(world.key("clinic-a", "admin"))
    body = {"name": "Bay", "timezone": "America/New_York",
            "rooms": [{"name": "Room 1"}, {"name": "Quiet room"}]}  # fmt: skip
    made = client.post("/admin/locations", json=body, headers=admin).json
    assert made["rooms"] == [
        {"room_id": "room-1", "name": "Room 1"}, {"room_id": "quiet-room", "name": "Quiet room"},
    ]  # fmt: skip
    url = f"/admin/locations/{made['location_id']}"
    renamed = [{"room_id": "room-1", "name": "Blue room"}, {"name": "Room 1"}]
    edited = client.put(url, json={**body, "rooms": renamed}, headers=admin).json
    assert edited["rooms"] == [
        {"room_id": "room-1", "name": "Blue room"}, {"room_id": "room-1-2", "name": "Room 1"},
    ]  # fmt: skip
    kept = client.put(url, json={"name": "Bay", "timezone": "America/New_York"}, headers=admin)
    assert kept.json["rooms"] == edited["rooms"]
    twice = {**body, "rooms": [{"name": "A"}, {"name": "a"}]}
    refused = client.put(url, json=twice, headers=admin)
    assert refused.status_code == 422 and "rooms" in refused.json["errors"]["json"]
    assert "same name, 'a'" in refused.json["errors"]["json"]["rooms"][0]
    for bad in ("   ", "x" * 61, ""):
        refused = client.put(url, json={**body, "rooms": [{"name": "A"}, {"name": bad}]},
                             headers=admin)  # fmt: skip
        assert refused.status_code == 422, bad
        assert any(p.startswith("rooms") for p in refused.json["errors"]["json"]), refused.json
    tenant = client.get("/admin/tenant", headers=admin).json
    [bay] = [m for m in tenant["locations"] if m["location_id"] == made["location_id"]]
    assert bay["rooms"] == edited["rooms"]


def test_every_principal_and_location_change_is_an_event_for_the_replicas(client, world):
    admin = world.key("clinic-a", "admin")
    location = client.post(
        "/admin/locations",
        json={"name": "Harbor", "timezone": "America/Los_Angeles"},
        headers=bearer(admin),
    ).json
    client.put(
        f"/admin/locations/{location['location_id']}",
        json={"name": "Harbor View", "timezone": "America/Los_Angeles"},
        headers=bearer(admin),
    )
    made = client.post(
        "/admin/keys",
        json={"role": "therapist", "name": "Sam", "locations": ["harbor"]},
        headers=bearer(admin),
    ).json
    client.delete(f"/admin/keys/{made['key_id']}", headers=bearer(admin))

    locations = [
        e["data"]
        for e in world.pending_events(indexes.TENANTS)
        if e["data"]["location_id"] == "harbor"
    ]
    assert [(d["name"], d["version"], d["timezone"], d["rooms"]) for d in locations] == [
        ("Harbor", 1, "America/Los_Angeles", []),
        ("Harbor View", 2, "America/Los_Angeles", []),
    ]
    events = [
        e for e in world.pending_events(indexes.PRINCIPALS) if e["data"]["key_id"] == made["key_id"]
    ]
    assert [(e["type"], e["data"]["version"]) for e in events] == [
        ("access.principal_upserted", 1),
        ("access.principal_revoked", 2),
    ]
    upserted = events[0]["data"]
    assert set(upserted) == {
        "key_hash",
        "key_id",
        "tenant_id",
        "role",
        "name",
        "locations",
        "partner_id",
        "version",
    }
    assert (upserted["key_hash"], upserted["locations"]) == (hash_key(made["key"]), ["harbor"])


@pytest.mark.parametrize(
    "body",
    [
        {"role": "therapist", "name": "Sam", "locations": ["nowhere"]},
        {"role": "partner", "name": "EHR", "partner_id": "unknown-partner"},
        {"role": "admin", "name": "Sam", "tenant_id": "clinic-b"},
        {"role": "root", "name": "Sam"},
    ],
    ids=["unknown-location", "partner-not-allowed", "tenant-id-sent", "unknown-role"],
)
def test_a_key_outside_the_clinic_is_refused(client, world, body):
    admin = world.key("clinic-a", "admin")
    before = world.count("principals")
    assert client.post("/admin/keys", json=body, headers=bearer(admin)).status_code == 422
    assert world.count("principals") == before


def test_only_admins_manage_keys_and_another_clinics_key_is_not_found(client, world):
    front_desk = world.key("clinic-a", "front_desk")
    assert client.get("/admin/keys", headers=bearer(front_desk)).status_code == 403
    admin_b = world.key("clinic-b", "admin")
    key_id = next(p["key_id"] for p in world.db.principals.find({"tenant_id": "clinic-a"}))
    assert client.delete(f"/admin/keys/{key_id}", headers=bearer(admin_b)).status_code == 404


@pytest.mark.parametrize("field", ["tenant_id", "_id", "status"])
def test_mass_assignment_is_refused_and_stored_documents_do_not_change(client, world, field):
    front_desk = world.key("clinic-a", "front_desk")
    receipt = client.post("/referrals", json=native_referral(), headers=bearer(front_desk)).json
    stored = {c: list(world.db[c].find()) for c in ("patients", "referrals")}

    consent = client.put(
        f"/patients/{receipt['patient_id']}/consent",
        json={"email": False, "sms": True, field: "x"},
        headers=bearer(front_desk),
    )
    cancel = client.post(
        f"/referrals/{receipt['referral_id']}/cancel",
        json={"reason": "r", field: "x"},
        headers=bearer(front_desk),
    )

    assert (consent.status_code, cancel.status_code) == (422, 422)
    assert field in consent.json["errors"]["json"] and field in cancel.json["errors"]["json"]
    assert {c: list(world.db[c].find()) for c in ("patients", "referrals")} == stored


def test_staff_change_a_patients_consent_which_is_an_event(client, world):
    front_desk = world.key("clinic-a", "front_desk")
    receipt = client.post("/referrals", json=native_referral(), headers=bearer(front_desk)).json
    response = client.put(
        f"/patients/{receipt['patient_id']}/consent",
        json={"email": False, "sms": True},
        headers=bearer(front_desk),
    )
    assert response.status_code == 200
    assert (
        response.json["consent"]["email"],
        response.json["consent"]["sms"],
        response.json["consent"]["source"],
    ) == (False, True, "staff")
    [changed] = [
        e for e in world.pending_events(indexes.PATIENTS) if e["type"] == "patient.consent_changed"
    ]
    assert changed["data"] == {
        "patient_id": receipt["patient_id"],
        "consent": {"email": False, "sms": True},
    }


def test_page_sizes_are_capped(world, settings):
    overrides = {k: getattr(settings, k) for k in ("mongo_url", "mongo_db", "amqp_url")}
    client = create_app({**overrides, "max_page_size": 2}).test_client()
    admin = world.key("clinic-a", "admin")
    for n in range(3):
        body = native_referral()
        body["patient"] = {
            **body["patient"],
            "identifiers": [{"value": f"MRN-{n}"}],
            "family_name": f"F{n}",
        }
        client.post("/referrals", json=body, headers=bearer(admin))
    response = client.get("/patients?page_size=50", headers=bearer(admin))
    assert response.status_code == 200 and len(response.json["items"]) == 2
    assert (response.json["page_size"], response.json["total"]) == (2, 3)
    second = client.get("/patients?page=2&page_size=50", headers=bearer(admin)).json
    assert len(second["items"]) == 1
