from __future__ import annotations

import pytest

from services.intake.domain.refusals import redacted, summary
from shared.schemas import flatten


@pytest.mark.parametrize(
    ("reason", "logged"),
    [
        (
            {"field": "Patient.telecom[1]", "message": "phone: '(617) 555' is not a phone number"},
            "Patient.telecom[1]: phone: '***' is not a phone number",
        ),
        (
            {"field": "patient.email", "message": "The email address is not valid."},
            "patient.email: The email address is not valid.",
        ),
        (
            {"field": "Condition[0].code", "message": "'X99.99' is not a billable ICD-10-CM code"},
            "Condition[0].code: 'X99.99' is not a billable ICD-10-CM code",
        ),
    ],
    ids=["phone-value-hidden", "email-message-kept", "code-kept"],
)
def test_what_goes_to_logs_and_dead_letter_headers_hides_contact_values(reason, logged):
    assert redacted(reason) == logged


def test_the_summary_names_every_field():
    reasons = [{"field": "a", "message": "x"}, {"field": "b.c", "message": "y"}]
    assert summary(reasons) == "referral refused: a: x; b.c: y"


def test_nested_marshmallow_messages_become_field_paths():
    messages = {
        "patient": {"phone": ["bad"], "identifiers": {0: {"value": ["missing"]}}},
        "diagnoses": {1: {"code": ["x"]}},
        "_schema": ["y"],
    }
    assert flatten(messages) == {
        "patient.phone": ["bad"],
        "patient.identifiers[0].value": ["missing"],
        "diagnoses[1].code": ["x"],
        "_schema": ["y"],
    }
