"""Property 13 for the notifications repositories' writes: a write made for tenant A never
changes a document of tenant B, even one whose `_id` is the id A's write names (a document
stored under a composed id, "<tenant>#...", by an older version or by hand)."""

from __future__ import annotations

from datetime import timedelta

from services.notifications.domain.deliveries import CANCELLED, QUEUED
from services.notifications.repository.contacts import ContactDirectory, contact_id
from services.notifications.repository.deliveries import DeliveryStore
from services.notifications.repository.template_overrides import TemplateOverrides, _id
from services.notifications.repository.tenant_configs import TenantConfigs
from tests.integration.notifications.harness import NOON_UTC

A, B = "clinic-a", "clinic-b"


def _all(collection) -> list[dict]:
    return list(collection.find({}).sort("_id", 1))


def test_contact_apply_never_changes_another_tenants_contact(db):
    foreign = {"_id": contact_id(A, "pat-1"), "tenant_id": B, "patient_id": "pat-1",
               "email": "b@example.org", "source_time": NOON_UTC - timedelta(days=1)}  # fmt: skip
    db.contacts.insert_one(foreign)
    before = _all(db.contacts)

    applied, contact = ContactDirectory(db.contacts).apply(
        A, "pat-1", {"email": "a@example.org", "referrals.ref-1.location_id": "main"}, NOON_UTC
    )

    assert (applied, contact) == (False, None)
    assert _all(db.contacts) == before


def test_template_put_and_delete_never_touch_another_tenants_override(db):
    overrides = TemplateOverrides(db.template_overrides)
    foreign = {"_id": _id(A, "en", "patient_welcome.email.j2"), "tenant_id": B,
               "language": "en", "file": "patient_welcome.email.j2", "source": "B's text"}  # fmt: skip
    db.template_overrides.insert_one(foreign)
    before = _all(db.template_overrides)

    try:
        overrides.put(A, "en", "patient_welcome.email.j2", "A's text", NOON_UTC)
    except Exception as refused:  # the id is taken: refused, never B's override replaced
        assert "duplicate key" in str(refused).lower()
    assert not overrides.delete(A, "en", "patient_welcome.email.j2")

    assert _all(db.template_overrides) == before


def test_cancel_session_pending_cancels_only_the_tenants_own_deliveries(db):
    pending = {"session_id": "ses-1", "session_time": NOON_UTC - timedelta(hours=1),
               "status": QUEUED, "channel": "email"}  # fmt: skip
    db.deliveries.insert_many(
        [{**pending, "_id": "d-a", "tenant_id": A}, {**pending, "_id": "d-b", "tenant_id": B}]
    )

    cancelled = DeliveryStore(db.deliveries).cancel_session_pending(
        A, "ses-1", before=NOON_UTC, keep=(), reason="session.cancelled", now=NOON_UTC
    )

    statuses = {d["_id"]: d["status"] for d in db.deliveries.find({})}
    assert (cancelled, statuses) == (1, {"d-a": CANCELLED, "d-b": QUEUED})


def test_tenant_config_put_never_replaces_another_tenants_document(db):
    db.tenant_configs.insert_one({"_id": A, "tenant_id": B, "clinic_name": "B's clinic"})
    before = _all(db.tenant_configs)

    try:
        TenantConfigs(db).put(A, {"clinic_name": "A's clinic"}, NOON_UTC)
    except Exception as refused:
        assert "duplicate key" in str(refused).lower()

    assert _all(db.tenant_configs) == before
