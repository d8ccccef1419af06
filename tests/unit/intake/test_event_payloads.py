"""What each builder of services/intake/events.py emits loads with its type's payload schema
(shared/events/payloads/intake.py, named in the catalogue), with no field the schema lacks: the
data is exactly what docs/events.md documents."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime
from importlib import resources

import pytest
from marshmallow import ValidationError

from services.intake import events
from services.intake.domain.clinic import new_location
from services.intake.domain.referral_record import terms_of
from services.intake.domain.refusals import Refusal
from services.intake.domain.screening import ScreeningInput, Surgery, screen
from services.intake.partner_forms.reading import read_referral
from shared.config import load_settings
from shared.events import catalog
from shared.events.payloads import undeclared
from shared.events.payloads.intake import PartnerStatusPayload

NOW = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
SETTINGS = load_settings("intake", environ={})
EXAMPLE = resources.files("services.intake.partner_forms") / "examples" / "referral_native.json"


def as_json(value):
    return json.loads(json.dumps(value, default=lambda v: v.isoformat()))


def referral(partner_id: str | None = "acme-ehr") -> dict:
    native = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    native.pop("tenant_id", None)
    terms = terms_of(read_referral("native", native, region="US"))
    return {
        "_id": "ref_0123456789abcdef0123",
        "tenant_id": "clinic-a",
        "partner_id": partner_id,
        "partner_referral_id": terms["partner_referral_id"],
        "location_id": "main",
        "patient_id": "pat_0123456789abcdef0123",
        "status": "accepted",
        "version": 2,
        "terms": terms,
        "intake_link_nonce": "n0nce",
    }


def held() -> dict:
    """A referral held for review: attached to nobody, waiting for a code."""
    pending = [{"item": "diagnosis_code", "message": "no billable ICD-10-CM code"}]
    return {**referral(), "status": "needs_review", "patient_id": None, "pending": pending}


PATIENT = {
    "_id": "pat_0123456789abcdef0123",
    "tenant_id": "clinic-a",
    "location_id": "main",
    "given_name": "Maria Elena",
    "family_name": "Alvarez",
    "email": "maria.alvarez@example.com",
    "phone": "+16175550134",
    "language": "es",
    "consent": {"email": True, "sms": False, "updated_at": NOW, "source": "referral"},
}


def intake() -> dict:
    result = screen(
        ScreeningInput(
            as_of=date(2026, 11, 3),
            medications=("Warfarin 5 mg daily",),
            surgeries=(Surgery(date(2026, 10, 20), "left knee"),),
        )
    )
    return {
        "_id": "int_0123456789abcdef0123",
        "tenant_id": "clinic-a",
        "referral_id": "ref_0123456789abcdef0123",
        "patient_id": "pat_0123456789abcdef0123",
        "location_id": "main",
        "body_areas": ["lower back"],
        "baseline": [{"measure": "NPRS", "items": [6], "score": 6.0}],
        "screening": as_json(asdict(result)),
        "referral_terms": referral()["terms"],
        "completed_by": "staff",
        "completed_at": NOW,
    }


PRINCIPAL = {
    "_id": "a" * 64,
    "key_id": "0a1b2c3d4e5f",
    "tenant_id": "clinic-a",
    "role": "therapist",
    "name": "Sam",
    "locations": ["main"],
    "partner_id": None,
    "version": 1,
}
REFUSAL = Refusal(
    message_key="m1",
    reasons=[{"field": "diagnoses[0].code", "message": "'X99.99' is not a billable code"}],
    sender="acme-ehr",
    partner_id="acme-ehr",
    tenant_id="clinic-a",
    tenant_allowed=True,
    partner_referral_id="REF-1",
    referrer={"name": "David Chen", "email": "d.chen@clinic.example.org"},
)
CLEARANCE = {"by": "Dr. Reyes", "at": NOW.isoformat(), "note": "ok", "rule_ids": ["anticoagulants"]}


def built() -> list:
    """Every builder, with stored state as the use cases save it."""
    location = new_location("Harbor View", "America/Los_Angeles", None, [])
    return [
        events.location_upserted("clinic-a", location),
        events.principal_upserted(PRINCIPAL),
        events.principal_revoked(PRINCIPAL),
        events.patient_registered(PATIENT),
        events.patient_consent_changed(PATIENT, {"email": False, "sms": True}),
        *events.referral_accepted(referral(), PATIENT, SETTINGS),
        *events.referral_amended(referral(partner_id=None), PATIENT, SETTINGS),
        *events.referral_cancelled(referral(), "patient moved"),
        *events.referral_rejected(REFUSAL),
        *events.referral_held(held()),
        *events.referral_declined({**held(), "status": "rejected"}, "no code could be agreed"),
        *events.referral_cancelled({**held(), "status": "cancelled"}, "sent elsewhere"),
        events.intake_completed(intake()),
        events.intake_screening_updated(intake(), CLEARANCE),
    ]


INTERNAL = [o for o in built() if o.exchange == "intake.events"]
TO_PARTNERS = [o for o in built() if o.exchange == "partner.status"]


def test_every_type_intake_publishes_is_built_here_and_has_a_payload_schema():
    assert {o.event.type for o in INTERNAL} == set(catalog.published_by("intake"))
    assert all(catalog.event_type(t).payload for t in catalog.published_by("intake"))


def on_the_wire(outgoing) -> dict:
    return json.loads(outgoing.event.to_json())["data"]


@pytest.mark.parametrize("outgoing", INTERNAL, ids=lambda o: o.event.type)
def test_each_internal_event_loads_with_its_catalogue_schema_and_declares_every_field(outgoing):
    schema = catalog.event_type(outgoing.event.type).payload()
    payload = on_the_wire(outgoing)
    schema.load(payload)
    assert undeclared(schema, payload) == []


@pytest.mark.parametrize("outgoing", TO_PARTNERS, ids=lambda o: o.event.type)
def test_each_partner_status_loads_with_the_status_schema_and_says_nothing_more(outgoing):
    payload = on_the_wire(outgoing)
    PartnerStatusPayload().load(payload)
    assert undeclared(PartnerStatusPayload(), payload) == []
    assert outgoing.routing_key == f"acme-ehr.{outgoing.event.type}"


def test_a_field_the_docs_do_not_list_is_named_and_a_missing_one_refused():
    [accepted] = [o for o in INTERNAL if o.event.type == "referral.accepted"]
    schema = catalog.event_type("referral.accepted").payload()
    payload = on_the_wire(accepted)
    extra = {**payload, "patient": {**payload["patient"], "diagnosis_notes": "x"}}
    assert undeclared(schema, extra) == ["patient.diagnosis_notes"]
    with pytest.raises(ValidationError) as refused:
        schema.load({k: v for k, v in payload.items() if k != "intake_link"})
    assert set(refused.value.messages) == {"intake_link"}


def test_a_held_referral_reaches_only_the_partner_and_its_cancellation_stays_outside_too():
    held_events = [*events.referral_held(held()), *events.referral_cancelled(held(), "moved")]
    assert {o.exchange for o in held_events} == {"partner.status"}
    [received, _] = held_events
    assert on_the_wire(received)["pending"] == [
        {"item": "diagnosis_code", "message": "no billable ICD-10-CM code"}
    ]


def test_a_status_names_the_message_it_answers_and_sets_the_correlation_id():
    answered = {**referral(), "answers": {"id": "evt-7", "source": "https://ehr.example.org"}}
    [status, _] = events.referral_accepted(answered, PATIENT, SETTINGS)
    assert on_the_wire(status)["answers"] == {"id": "evt-7", "source": "https://ehr.example.org"}
    assert status.properties == {"correlation_id": "evt-7"}


def test_a_prescribers_contact_kept_as_sent_but_noticed_is_never_written_to():
    terms = {
        **referral()["terms"],
        "notices": [{"field": "requester.email", "message": "not valid; kept as sent"}],
    }
    assert events.referrer_of(terms)["email"] is None
    assert events.referrer_of(terms)["name"] == "David Chen"
