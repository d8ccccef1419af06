"""The example messages of docs/partners.md are what the service reads and sends."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from services.intake import events
from services.intake.partner_forms.reading import form_of, read_cancellation, read_referral
from shared.events import parse_event
from shared.events.payloads import undeclared
from shared.events.payloads.intake import PARTNER_STATUS_PAYLOADS
from testkit.fhir_validation import fhir_problems
from tests.unit.intake.closed_loop import docs_status_events

DOC = Path(__file__).resolve().parents[3] / "docs" / "partners.md"
BLOCKS = [
    json.loads(b) for b in re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.S)
]
INBOUND = [b for b in BLOCKS if b["source"] != events.SOURCE]
OUTBOUND = [b for b in BLOCKS if b["source"] == events.SOURCE]
MILESTONES = ("referral.plan_approved", "referral.progress_reported", "referral.discharged")
EXACT = [b for b in OUTBOUND if b["type"] in MILESTONES or b["datacontenttype"] == events.FHIR_JSON]
"""Shown as the service builds them for the docs' referral (`closed_loop.docs_status_events`)."""
SHAPED = [b for b in OUTBOUND if b not in EXACT]
"""Shown with the fields the service sends (native status before care)."""


def test_the_guide_shows_both_forms_a_cancellation_and_a_status():
    kinds = sorted((b["type"], b["datacontenttype"]) for b in BLOCKS)
    assert kinds == [
        ("referral.cancelled", "application/json"),
        ("referral.discharged", "application/fhir+json"),
        ("referral.discharged", "application/json"),
        ("referral.plan_approved", "application/json"),
        ("referral.progress_reported", "application/json"),
        ("referral.received", "application/fhir+json"),
        ("referral.received", "application/json"),
        ("referral.rejected", "application/json"),
        ("referral.requested", "application/fhir+json"),
        ("referral.requested", "application/json"),
    ]


@pytest.mark.parametrize("message", INBOUND, ids=lambda b: f"{b['type']}-{b['datacontenttype']}")
def test_each_example_partner_message_is_read_without_a_problem(message):
    event = parse_event(message)
    if event.type == "referral.cancelled":
        assert read_cancellation(event.data)["partner_referral_id"] == "REF-2026-10-4471"
    else:
        referral = read_referral(form_of(event.datacontenttype), event.data, region="US")
        assert referral.partner_referral_id == "REF-2026-10-4471"


@pytest.mark.parametrize("status", SHAPED, ids=lambda b: b["type"])
def test_each_example_status_has_the_shape_the_service_sends(status):
    sent = events.partner_status(
        events.PartnerStatus(
            "p", "t", status["type"], "r", None, answers={"id": "7c1f", "source": "s"}
        )
    )
    assert set(status["data"]) == set(sent.event.data)
    assert set(status["data"]["answers"]) == set(sent.event.data["answers"])
    assert parse_event(status).type == status["type"]
    schema = PARTNER_STATUS_PAYLOADS[status["type"]]()
    schema.load(status["data"])
    assert undeclared(schema, status["data"]) == []


@pytest.mark.parametrize("shown", EXACT, ids=lambda b: f"{b['type']}-{b['datacontenttype']}")
def test_each_milestone_and_fhir_example_is_exactly_what_the_service_builds_for_its_referral(
    shown,
):
    status_format = "fhir" if shown["datacontenttype"] == events.FHIR_JSON else "native"
    built = {o.event.type: o for o in docs_status_events(status_format)}[shown["type"]]
    assert shown["data"] == json.loads(built.event.to_json())["data"]
    assert parse_event(shown).datacontenttype == built.event.datacontenttype
    assert built.properties == {"correlation_id": "7c1f0e9a-52d4-4b8e-9a61-0d3c2b1a9f04"}
    if status_format == "fhir":
        assert fhir_problems(shown["data"]) == []
    else:
        schema = PARTNER_STATUS_PAYLOADS[shown["type"]]()
        schema.load(shown["data"])
        assert undeclared(schema, shown["data"]) == []
