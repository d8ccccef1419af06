"""What each builder of services/planning/events.py emits loads with its type's payload schema
(shared/events/payloads/planning.py, named in the catalogue), with no field the schema lacks."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from marshmallow import ValidationError

from services.planning import events
from services.planning.domain.drafting import draft_plan
from services.planning.domain.intake_summary import IntakeSummary
from services.planning.domain.plan_content import content_from_draft
from services.planning.domain.plan_document import referral_document
from shared.events import catalog, outbox
from shared.events.payloads import undeclared
from tests.support import planning_data as data

STARTS_AT = datetime(2030, 3, 4, 15, 30, tzinfo=UTC)


def stored_plan() -> dict[str, Any]:
    """A plan document as planning stores it: drafted, with a session and a measurement."""
    intake_data = data.intake_completed()
    intake = IntakeSummary.from_event_data({**intake_data, "tenant_id": data.TENANT})
    session = {
        "session_id": "ses_0123456789abcdef0123",
        "location_id": data.LOCATION,
        "location_name": "Downtown",
        "location_tz": data.LOCATION_TZ,
        "therapist_id": "th-1",
        "room_id": None,
        "starts_at": STARTS_AT,
        "duration_minutes": 60,
        "status": "completed",
        "booked_by": "staff",
        "cancelled_by": None,
    }
    return {
        "_id": "pln_0123456789abcdef0123",
        "tenant_id": data.TENANT,
        "referral_id": intake.referral_id,
        "patient_id": intake.patient_id,
        "location_id": intake.location_id,
        "status": "draft",
        "version": 1,
        "created_at": STARTS_AT - timedelta(days=7),
        "content": content_from_draft(draft_plan(intake, date.today())),
        "baseline": {b.measure: b.score for b in intake.baseline},
        "referral": referral_document(intake.referral, intake_data["referral"]["referrer"], 0),
        "reasons": [data.reason("suspected_dvt", "absolute")],
        "awaiting": ["recent_surgery"],
        "sessions": [session],
        "measurements": [{"measure": "NPRS", "score": 4.0, "taken_at": STARTS_AT}],
    }


def emitted() -> list[outbox.Outgoing]:
    plan = stored_plan()
    session = plan["sessions"][0]
    moved_from = events.utc_text(STARTS_AT - timedelta(days=1))
    return [
        events.drafted(plan),
        events.held(plan),
        events.cannot_plan(plan),
        events.activated(plan),
        events.closed("plan.completed", plan, "goals met"),
        events.closed("plan.discontinued", plan, "patient moved"),
        events.progress_updated(plan, ["NPRS"]),
        *(
            events.session_event(f"session.{kind}", plan, session)
            for kind in ("scheduled", "cancelled", "completed", "no_show")
        ),
        events.session_event("session.rescheduled", plan, session, previous_starts_at=moved_from),
        events.referral_alert(plan, "visits", 2, 6),
        events.referral_alert(plan, "days", 14, 3),
        events.referral_alert(plan, "expired", 0, 3),
    ]


def on_the_wire(outgoing: outbox.Outgoing) -> dict[str, Any]:
    return json.loads(outgoing.event.to_json())["data"]


@pytest.mark.parametrize("outgoing", emitted(), ids=lambda o: o.event.type)
def test_what_a_builder_emits_loads_with_its_payload_schema_and_declares_every_field(outgoing):
    schema = catalog.event_type(outgoing.event.type).payload()
    payload = on_the_wire(outgoing)
    schema.load(payload)
    assert undeclared(schema, payload) == []


def test_every_type_planning_publishes_has_a_payload_schema_and_a_builder_checked_here():
    published = set(catalog.published_by("planning"))
    assert {t for t in published if catalog.CATALOG[t].payload is None} == set()
    assert {o.event.type for o in emitted()} == published


def test_a_payload_missing_a_field_or_with_a_wrong_kind_is_refused_naming_the_field():
    alert = on_the_wire(events.referral_alert(stored_plan(), "days", 14, 3))
    schema = catalog.event_type("referral.expiring").payload()
    with pytest.raises(ValidationError) as refused:
        schema.load({**alert, "kind": "weeks", "plan_id": None})
    assert set(refused.value.messages) == {"kind", "plan_id"}
