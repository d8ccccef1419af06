from datetime import UTC, datetime

from shared.events import new_event, outbox


def test_events_are_folded_into_the_same_update_as_the_state_change():
    event = new_event("plan.drafted", source="clinic/planning", tenant_id="t", data={})
    now = datetime(2026, 1, 1, tzinfo=UTC)
    update = outbox.with_events(
        {"$set": {"status": "draft"}, "$inc": {"version": 1}},
        [outbox.to_exchange_of("planning", event)],
        now=now,
    )
    assert update["$set"] == {"status": "draft", "outbox_due": now}
    assert update["$inc"] == {"version": 1, "outbox_seq": 1}
    [pending] = update["$push"]["outbox"]["$each"]
    assert pending["exchange"] == "planning.events"
    assert pending["routing_key"] == "plan.drafted"
    assert pending["event"]["id"] == event.id


def test_no_events_leaves_the_update_alone():
    assert outbox.with_events({"$set": {"a": 1}}, []) == {"$set": {"a": 1}}
    assert outbox.pending([]) == {}
