"""The example messages of docs/partners.md are what the service reads and sends."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from services.intake import events
from services.intake.partner_forms.reading import form_of, read_cancellation, read_referral
from shared.events import parse_event
from shared.events.payloads.intake import PartnerStatusPayload

DOC = Path(__file__).resolve().parents[3] / "docs" / "partners.md"
BLOCKS = [
    json.loads(b) for b in re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.S)
]
INBOUND = [b for b in BLOCKS if b["source"] != events.SOURCE]
OUTBOUND = [b for b in BLOCKS if b["source"] == events.SOURCE]


def test_the_guide_shows_both_forms_a_cancellation_and_a_status():
    kinds = sorted((b["type"], b["datacontenttype"]) for b in BLOCKS)
    assert kinds == [
        ("referral.cancelled", "application/json"),
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


@pytest.mark.parametrize("status", OUTBOUND, ids=lambda b: b["type"])
def test_each_example_status_has_the_shape_the_service_sends(status):
    sent = events.partner_status(
        events.PartnerStatus(
            "p", "t", status["type"], "r", None, answers={"id": "7c1f", "source": "s"}
        )
    )
    assert set(status["data"]) == set(sent.event.data)
    assert set(status["data"]["answers"]) == set(sent.event.data["answers"])
    assert parse_event(status).type == status["type"]
    PartnerStatusPayload().load(status["data"])
