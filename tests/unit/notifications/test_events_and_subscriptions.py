"""What notifications emits loads with its payload schema, and what it listens to is derived
from the event catalogue: every documented intake and planning type is bound (none is ever
unroutable), and its own outcomes too."""

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from marshmallow import ValidationError

from services.notifications import consumers, events
from services.notifications.domain.contacts import PatientPrefs
from services.notifications.domain.deliveries import Origin
from services.notifications.domain.delivery_plan import event_deliveries
from services.notifications.domain.rules import ruled_event_types
from services.notifications.domain.tenant_config import TenantConfig
from shared.config import load_settings
from shared.events import catalog

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
REFERRAL = {
    "referral_id": "ref-1", "patient_id": "pat-1", "location_id": "loc-1", "partner_id": None,
    "referrer": {"name": "Dr. Lee", "email": "lee@practice.example"},
    "patient": {"given_name": "Maria", "email": "maria@example.org"},
    "diagnoses": [{"code": "M54.2", "display": "Cervicalgia"}],
    "consent": {"email": True, "sms": False}, "intake_link": "https://i.example/t",
}  # fmt: skip


@pytest.fixture
def delivery():
    origin = Origin("clinic/intake", "evt-1", "referral.accepted", NOW, "corr-1")
    [welcome] = [
        d
        for d in event_deliveries(
            "t1", origin, REFERRAL, PatientPrefs(email_ok=True), TenantConfig(), NOW
        )
        if d["audience"] == "patient" and d["channel"] == "email"
    ]
    return {**welcome, "attempts": 2}


def test_every_type_notifications_publishes_has_a_payload_schema():
    assert catalog.published_by("notifications") == (events.SENT, events.FAILED)
    assert all(catalog.CATALOG[t].payload is not None for t in (events.SENT, events.FAILED))


def test_what_each_builder_emits_loads_with_its_payload_schema_and_declares_every_field(
    delivery,
):
    for outgoing in (
        events.notification_sent(delivery),
        events.notification_failed(delivery, "SMTP refused (550)"),
    ):
        event = outgoing.event
        data = json.loads(event.to_json())["data"]  # as it goes on the wire
        schema = catalog.event_type(event.type).payload()
        assert schema.load(data) == data
        assert set(data) <= set(schema.fields)  # nothing the contract does not name (no PHI)
        assert (outgoing.exchange, outgoing.routing_key) == (
            catalog.exchange_of(event.type), event.type,
        )  # fmt: skip
        assert (event.subject, event.correlation_id, event.tenant_id) == (
            delivery["_id"], "corr-1", "t1",
        )  # fmt: skip


def test_a_failure_without_its_reason_or_with_a_wrong_kind_is_refused_naming_the_field(delivery):
    sent = json.loads(events.notification_sent(delivery).event.to_json())["data"]
    with pytest.raises(ValidationError) as refused:
        catalog.event_type(events.FAILED).payload().load({**sent, "attempts": "two"})
    assert set(refused.value.messages) == {"reason", "attempts"}


def test_the_inbox_binds_the_types_it_handles_and_unbinds_the_others_an_earlier_version_bound():
    settings = load_settings("notifications", environ={})
    handled = {"referral.accepted": None, "progress.updated": None}
    spec = consumers.inbox(settings, handled).spec  # type: ignore[arg-type]
    assert sorted(spec.bindings) == [
        ("intake.events", "referral.accepted"),
        ("planning.events", "progress.updated"),
    ]
    published = {t for p in ("intake", "planning") for t in catalog.published_by(p)}
    assert {t for _, t in spec.stale_bindings} == published - set(handled)


def test_the_service_has_one_queue_its_own_events_going_to_the_unheard_sink():
    db = SimpleNamespace(principals=None, locations=None, revocations=None)  # names only
    deps = SimpleNamespace(db=db)
    settings = load_settings("notifications", environ={})
    queues = consumers.subscriptions(settings, deps, None)  # type: ignore[arg-type]
    assert [s.spec.name for s in queues] == ["notifications.inbox"]
    assert catalog.unheard_bindings("notifications") == {
        "notifications.events": ["notification.failed", "notification.sent"]
    }


def test_every_published_type_a_rule_names_has_a_handler_and_internal_ones_do_not():
    handled = consumers.planned_event_types()
    assert handled <= set(catalog.CATALOG)
    assert ruled_event_types() - handled == {"session.reminder_due", "notification.delivery_failed"}
    assert {"patient.registered", "patient.consent_changed", "session.cancelled"} <= handled
