"""A FHIR partner hears every status through the one seam (services/intake/events.py,
`partner_status`): received, accepted, rejected and cancelled carry the referral's Task as it
stands (a refusal its own rejected Task), each valid FHIR R4, with the AMQP correlation id of the
message it answers; what goes inside the clinic is the same whatever the partner's format."""

from __future__ import annotations

import json

import pytest

from services.intake import events
from services.intake.domain import partner_settings
from services.intake.domain.refusals import Refusal
from shared.config import load_settings
from shared.events import catalog
from shared.events.payloads import undeclared
from testkit.fhir_validation import fhir_problems
from tests.unit.intake.closed_loop import ANSWERS, CONTEXT, COURSE, stored_referral, with_milestones

SETTINGS = load_settings("intake", environ={})
PATIENT = {
    "_id": "pat_0123456789abcdef0123",
    "given_name": "Maria Elena",
    "family_name": "Alvarez",
    "birth_date": "1978-04-12",
    "email": "maria.alvarez@example.com",
    "consent": {"email": True, "sms": False},
}
PENDING = [
    {"item": "diagnosis_code", "message": "no billable ICD-10-CM code (sent: Low back pain)"},
    {"item": "patient_identity", "message": "the clinic confirms who the patient is", "patient_ids": ["pat_x"]},
]  # fmt: skip
TASK_ID = "ref-0123456789abcdef0123"


def accepted() -> dict:
    return {**stored_referral(), "intake_link_nonce": "n0nce"}


def held() -> dict:
    return {**stored_referral(), "status": "needs_review", "patient_id": None, "pending": PENDING}


def cancelled() -> dict:
    cancellation = {"reason": "Patient chose another clinic", "at": CONTEXT.now, "by": "partner"}
    return {**stored_referral(), "status": "cancelled", "cancellation": cancellation, "version": 2}


def refusal() -> Refusal:
    return Refusal(
        message_key="m1",
        reasons=[
            {"field": "ServiceRequest.status", "message": "'draft' referrals authorize nothing"}
        ],
        sender="acme-ehr",
        partner_id="acme-ehr",
        tenant_id="northside",
        tenant_allowed=True,
        partner_referral_id="REF-2026-10-4471",
        referrer={"name": "David Chen", "email": "d.chen@clinic.example.org"},
        answers={"id": "evt-refused", "source": "https://referrals.partner.example.org"},
    )


def to_partner(outgoing: list) -> list:
    return [o for o in outgoing if o.exchange == "partner.status"]


def wire(outgoing) -> dict:
    return json.loads(outgoing.event.to_json())


def fhir(build) -> object:
    [status] = to_partner(build("fhir"))
    return status


BUILDERS = {
    "received": lambda f: events.referral_held(held(), f, CONTEXT),
    "accepted": lambda f: events.referral_accepted(accepted(), PATIENT, SETTINGS, f, CONTEXT),
    "amended": lambda f: events.referral_amended(accepted(), PATIENT, SETTINGS, f, CONTEXT),
    "declined": lambda f: events.referral_declined(
        {**held(), "status": "rejected"}, "no code could be agreed", f, CONTEXT
    ),
    "cancelled": lambda f: events.referral_cancelled(
        cancelled(), "Patient chose another clinic", f, ANSWERS, CONTEXT
    ),
    "refused": lambda f: events.referral_rejected(refusal(), f, CONTEXT),
}  # fmt: skip


@pytest.mark.parametrize("kind", BUILDERS)
def test_every_status_reaches_a_fhir_partner_as_a_valid_r4_task(kind):
    event = wire(fhir(BUILDERS[kind]))
    assert event["datacontenttype"] == "application/fhir+json"
    assert event["data"]["resourceType"] == "Task"
    assert fhir_problems(event["data"]) == []
    assert event["data"]["focus"]["identifier"]["value"] == "REF-2026-10-4471"


@pytest.mark.parametrize(
    ("kind", "type_", "task_status"),
    [
        ("received", "referral.received", "received"),
        ("accepted", "referral.accepted", "accepted"),
        ("amended", "referral.accepted", "accepted"),
        ("declined", "referral.rejected", "rejected"),
        ("cancelled", "referral.cancelled", "cancelled"),
        ("refused", "referral.rejected", "rejected"),
    ],
)
def test_each_status_keeps_its_type_and_routing_and_its_task_says_where_the_referral_stands(
    kind, type_, task_status
):
    status = fhir(BUILDERS[kind])
    assert (status.event.type, status.routing_key) == (type_, f"acme-ehr.{type_}")
    assert status.event.data["status"] == task_status


def test_the_referrals_statuses_are_one_task_and_a_refused_message_gets_its_own():
    ids = {kind: fhir(build).event.data["id"] for kind, build in BUILDERS.items()}
    assert {ids[k] for k in ids if k != "refused"} == {TASK_ID}
    assert ids["refused"] == f"rej-{refusal().refusal_id}"


def test_a_received_task_names_what_is_pending_never_the_other_patients():
    task = fhir(BUILDERS["received"]).event.data
    assert task["statusReason"]["text"] == (
        "diagnosis_code: no billable ICD-10-CM code (sent: Low back pain); "
        "patient_identity: the clinic confirms who the patient is"
    )
    assert "pat_x" not in json.dumps(task)


def test_rejected_and_cancelled_tasks_say_why():
    declined = fhir(BUILDERS["declined"]).event.data
    assert declined["statusReason"]["text"] == "review: no code could be agreed"
    refused = fhir(BUILDERS["refused"]).event.data
    assert refused["statusReason"]["text"] == (
        "ServiceRequest.status: 'draft' referrals authorize nothing"
    )
    assert fhir(BUILDERS["cancelled"]).event.data["statusReason"]["text"] == (
        "Patient chose another clinic"
    )


@pytest.mark.parametrize("kind", BUILDERS)
def test_a_fhir_status_sets_the_correlation_id_of_the_message_it_answers(kind):
    answered = "evt-refused" if kind == "refused" else ANSWERS["id"]
    assert fhir(BUILDERS[kind]).properties == {"correlation_id": answered}


def test_an_amendment_after_care_began_keeps_the_task_where_care_stands():
    referral = with_milestones(accepted(), COURSE[:2])
    [status, _] = events.referral_amended(referral, PATIENT, SETTINGS, "fhir", CONTEXT)
    assert status.event.data["status"] == "in-progress"
    kinds = {o["type"]["coding"][0]["code"] for o in status.event.data["output"]}
    assert kinds == {"18776-5", "11506-3"}  # the plan of care and the progress report


@pytest.mark.parametrize("kind", BUILDERS)
def test_what_goes_inside_is_the_same_whatever_the_partners_format(kind):
    def inside(status_format: str) -> list:
        built = [o for o in BUILDERS[kind](status_format) if o.exchange == "intake.events"]
        return [(o.event.type, wire(o)["data"]) for o in built]

    assert inside("fhir") == inside("native")
    for type_, data in inside("fhir"):
        schema = catalog.event_type(type_).payload()
        schema.load(data)
        assert undeclared(schema, data) == []


def test_internal_events_carry_the_clinics_name_for_the_prescribers_letters():
    [_, inside] = events.referral_accepted(accepted(), PATIENT, SETTINGS, "fhir", CONTEXT)
    assert inside.event.data["clinic_name"] == "Northside Massage"
    assert inside.event.data["patient"]["birth_date"] == "1978-04-12"
    [_, declined] = BUILDERS["declined"]("native")
    assert declined.event.data["clinic_name"] == "Northside Massage"
    assert declined.event.data["patient"] == {
        "given_name": "Maria Elena",
        "family_name": "Alvarez",
        "birth_date": "1978-04-12",
    }
    assert declined.event.data["referrer"]["prefix"] == "Dr."


def test_a_fhir_status_without_the_clinic_that_speaks_is_a_programming_error():
    with pytest.raises(ValueError, match="TaskContext"):
        events.referral_held(held(), "fhir")


def test_there_is_one_writer_per_status_format_a_partner_may_choose():
    assert set(events.STATUS_WRITERS) == set(partner_settings.STATUS_FORMATS)
    assert partner_settings.status_format_of(None) == "native"
    assert partner_settings.status_format_of({"status_format": "fhir"}) == "fhir"
    assert not hasattr(events, "status_format_of")
