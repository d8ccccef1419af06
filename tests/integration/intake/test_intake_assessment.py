"""The intake assessment over HTTP: scoring, screening, signed consent (immutable), channel consent,
clearances, and the events planning needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.intake.domain.intake_link import InvalidLink
from services.intake.repository import indexes
from services.intake.usecases import intake_links
from testkit.referrals import native_referral
from testkit.staff import bearer

TODAY = datetime.now(UTC).date()


@pytest.fixture
def therapist(world):
    return world.key("clinic-a", "therapist")


@pytest.fixture
def referral(client, world):
    key = world.key("clinic-a", "front_desk")
    return client.post("/referrals", json=native_referral(), headers=bearer(key)).json


def intake_form(referral_id, **changes):
    form = {
        "referral_id": referral_id,
        "history": {
            "conditions": ["cancer_under_treatment"],
            "surgeries": [
                {"performed_on": (TODAY - timedelta(days=20)).isoformat(), "body_area": "left knee"}
            ],
            "notes": "Desk job.",
        },
        "medications": ["Warfarin 5 mg daily"],
        "symptoms": [
            {"description": "Low back pain when sitting", "body_area": "lower back", "severity": 6}
        ],
        "vitals": {"temperature_c": 36.8, "blood_pressure": {"systolic": 128, "diastolic": 82}},
        "body_areas": ["lower back", "neck"],
        "baseline": [
            {"measure": "NPRS", "items": [6]},
            {"measure": "ODI", "items": [2, 3, 1, 2, 2, 3, 1, 2, None, 2]},
        ],
        "consent": {"signed_by": "Maria Elena Alvarez", "agreed": True, "email": True, "sms": True},
    }
    form.update(changes)
    return form


def test_completing_an_intake_scores_screens_and_emits_what_planning_needs(
    client, world, therapist, referral
):
    response = client.post(
        "/intakes", json=intake_form(referral["referral_id"]), headers=bearer(therapist)
    )

    assert response.status_code == 201, response.json
    intake = response.json
    assert [(b["measure"], b["score"]) for b in intake["baseline"]] == [
        ("NPRS", 6.0),
        ("ODI", 40.0),
    ]
    screening = intake["screening"]
    assert screening["outcome"] == "needs_clearance"
    assert {r["rule_id"] for r in screening["reasons"]} >= {
        "cancer-under-treatment",
        "anticoagulants",
        "recent-surgery-site",
    }
    assert screening["excluded_areas"] == ["left knee"]
    assert "no deep tissue" in screening["modifications"]
    [event] = [e for e in world.pending_events(indexes.INTAKES)]
    assert event["type"] == "intake.completed"
    data = event["data"]
    assert set(data) == {
        "intake_id",
        "referral_id",
        "patient_id",
        "location_id",
        "completed_by",
        "screening",
        "baseline",
        "referral",
        "body_areas",
        "completed_at",
    }
    assert data["referral"]["authorized_visits"] == 8
    assert data["referral"]["referrer"] == {
        "name": "David Chen",
        "email": "d.chen@clinic.example.org",
    }
    assert set(data["screening"]["reasons"][0]) == {"rule_id", "tier", "label", "detail"}
    [audit] = world.audit(action="intake.complete")
    assert audit["object"] == {"type": "intake", "id": intake["intake_id"]}
    assert audit["outcome"] == "ok"


def test_the_intake_records_channel_consent_on_the_patient(client, world, therapist, referral):
    assert world.db.patients.find_one()["consent"]["sms"] is True  # as the referral said
    consent = {"signed_by": "Maria Elena Alvarez", "agreed": True, "email": True, "sms": False}
    client.post(
        "/intakes",
        json=intake_form(referral["referral_id"], consent=consent),
        headers=bearer(therapist),
    )
    patient = world.db.patients.find_one({"_id": referral["patient_id"]})
    assert (
        patient["consent"]["email"],
        patient["consent"]["sms"],
        patient["consent"]["source"],
    ) == (True, False, "intake")
    [changed] = [
        e for e in world.pending_events(indexes.PATIENTS) if e["type"] == "patient.consent_changed"
    ]
    assert changed["data"]["consent"] == {"email": True, "sms": False}


def test_signed_consent_is_immutable_a_second_intake_is_refused(client, world, therapist, referral):
    first = client.post(
        "/intakes", json=intake_form(referral["referral_id"]), headers=bearer(therapist)
    )
    changed = intake_form(
        referral["referral_id"],
        consent={"signed_by": "Someone Else", "agreed": True, "email": False, "sms": False},
    )
    second = client.post("/intakes", json=changed, headers=bearer(therapist))
    assert (first.status_code, second.status_code) == (201, 409)
    assert world.db.intakes.find_one()["consent"]["signed_by"] == "Maria Elena Alvarez"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {
                "baseline": [
                    {"measure": "QuickDASH", "items": [1, 2, None, None, 1, 1, 1, 1, 1, 1, 1]}
                ]
            },
            "baseline[0].items",
        ),
        ({"baseline": [{"measure": "ODI", "items": [9] * 10}]}, "baseline[0].items"),
        ({"history": {"conditions": ["fevr"]}}, "history"),
        ({"consent": {"signed_by": "M", "agreed": False, "email": True, "sms": False}}, "consent"),
        ({"status": "completed"}, "status"),
        ({"tenant_id": "clinic-b"}, "tenant_id"),
    ],
    ids=[
        "quickdash-two-missing",
        "odi-out-of-range",
        "unknown-condition",
        "consent-not-agreed",
        "status-sent",
        "tenant-sent",
    ],
)
def test_an_invalid_intake_is_422_naming_the_field_and_stores_nothing(
    client, world, therapist, referral, changes, field
):
    response = client.post(
        "/intakes", json=intake_form(referral["referral_id"], **changes), headers=bearer(therapist)
    )
    assert response.status_code == 422
    assert field in response.json["errors"]["json"], response.json
    assert world.count("intakes") == 0


def test_a_clearance_re_issues_the_screening_with_who_when_and_why(
    client, world, therapist, referral
):
    intake = client.post(
        "/intakes", json=intake_form(referral["referral_id"]), headers=bearer(therapist)
    ).json
    cleared = ["cancer-under-treatment", "surgery-within-6-months"]
    body = {
        "rule_ids": cleared,
        "note": "Oncologist and surgeon cleared light massage",
        "cleared_by": "Dr. Rivera",
    }

    response = client.post(
        f"/intakes/{intake['intake_id']}/clearances", json=body, headers=bearer(therapist)
    )

    assert response.status_code == 200, response.json
    assert response.json["screening"]["outcome"] == "local"  # the surgery site stays excluded
    assert response.json["screening"]["cleared"] == cleared
    updated = world.pending_events(indexes.INTAKES)[-1]
    assert updated["type"] == "intake.screening_updated"
    assert updated["data"]["clearance"]["by"] == "Dr. Rivera"
    assert updated["data"]["clearance"]["rule_ids"] == cleared
    assert updated["data"]["screening"]["requires_clearance_for"] == []


def test_an_absolute_contraindication_cannot_be_cleared(client, therapist, referral):
    form = intake_form(referral["referral_id"], history={"conditions": ["dvt"]})
    intake = client.post("/intakes", json=form, headers=bearer(therapist)).json
    assert intake["screening"]["outcome"] == "blocked"
    body = {"rule_ids": ["dvt-or-pulmonary-embolism"], "note": "n", "cleared_by": "Dr. X"}
    response = client.post(
        f"/intakes/{intake['intake_id']}/clearances", json=body, headers=bearer(therapist)
    )
    assert response.status_code == 422 and "rule_ids" in response.json["errors"]["json"]


def test_a_cancelled_referral_takes_no_intake(client, world, therapist, referral):
    admin = world.key("clinic-a", "admin")
    client.post(f"/referrals/{referral['referral_id']}/cancel", json={}, headers=bearer(admin))
    response = client.post(
        "/intakes", json=intake_form(referral["referral_id"]), headers=bearer(therapist)
    )
    assert response.status_code == 409


def test_the_intake_link_opens_its_referral_until_it_is_cancelled(client, world, deps, referral):
    [accepted] = [
        e for e in world.pending_events(indexes.REFERRALS) if e["type"] == "referral.accepted"
    ]
    token = accepted["data"]["intake_link"].rsplit("/", 1)[1]
    assert intake_links.resolve(deps, token).referral_id == referral["referral_id"]
    admin = world.key("clinic-a", "admin")
    client.post(f"/referrals/{referral['referral_id']}/cancel", json={}, headers=bearer(admin))
    with pytest.raises(InvalidLink):
        intake_links.resolve(deps, token)
