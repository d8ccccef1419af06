from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.planning.domain.intake_stage import IntakeRecord, merge, read_intake_event
from services.planning.domain.intake_summary import InvalidIntake
from tests.support import planning_data as data

TODAY = datetime.now(UTC).date()
TENANT = "tenant-1"
RULES = ["heart_disease", "recent_stroke", "pregnancy"]


def held_intake():
    return data.needs_clearance(
        "ref-1", **{"screening.reasons": [data.reason(rule, "clearance") for rule in RULES]}
    )


def clearance(intake, rule_ids, minutes):
    updated = data.screening_updated(intake, rule_ids)
    at = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    updated["clearance"]["at"] = at.isoformat()
    return updated


def state(record: IntakeRecord):
    outcome = record.outcome(TENANT, TODAY)
    return outcome.status, getattr(outcome, "awaiting", ())


@given(st.permutations(range(4)), st.lists(st.integers(0, 3), max_size=3))
def test_the_same_events_in_any_order_and_repeated_give_the_same_outcome(order, repeats):
    intake = held_intake()
    events = [
        read_intake_event("intake.completed", intake, TENANT),
        read_intake_event(
            "intake.screening_updated", clearance(intake, ["heart_disease"], 1), TENANT
        ),
        read_intake_event(
            "intake.screening_updated", clearance(intake, ["recent_stroke"], 2), TENANT
        ),
        read_intake_event("intake.screening_updated", clearance(intake, ["pregnancy"], 3), TENANT),
    ]
    in_order = None
    for event in events:
        in_order = merge(in_order, event)
    shuffled = None
    for index in [*order, *repeats]:
        shuffled = merge(shuffled, events[index])
    assert state(shuffled) == state(in_order) == ("draft", ())


def test_a_partial_clearance_keeps_the_plan_held_for_the_rest():
    intake = held_intake()
    record = merge(
        read_intake_event("intake.completed", intake, TENANT),
        read_intake_event("intake.screening_updated", clearance(intake, ["pregnancy"], 1), TENANT),
    )
    assert state(record) == ("held", ("heart_disease", "recent_stroke"))


def test_the_newest_event_is_the_basis_and_clearances_add_up():
    intake = held_intake()
    completed = read_intake_event("intake.completed", intake, TENANT)
    later = read_intake_event(
        "intake.screening_updated", clearance(intake, ["pregnancy"], 5), TENANT
    )
    earlier = read_intake_event(
        "intake.screening_updated", clearance(intake, ["heart_disease"], 1), TENANT
    )
    record = merge(merge(merge(None, later), completed), earlier)
    assert record.basis is later.basis
    assert record.cleared == {"pregnancy", "heart_disease"}


def test_a_record_survives_being_stored():
    record = read_intake_event("intake.completed", held_intake(), TENANT)
    assert IntakeRecord.from_document(record.to_document()) == record


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"clearance": None}, "missing 'clearance'"),
        (
            {"clearance": {"at": "2030-01-01T00:00:00+00:00", "rule_ids": "heart_disease"}},
            "rule_ids",
        ),
        ({"clearance": {"at": "yesterday", "rule_ids": []}}, "invalid 'at'"),
    ],
)
def test_a_screening_update_without_a_readable_clearance_is_refused(change, message):
    updated = {**clearance(held_intake(), ["heart_disease"], 1), **change}
    with pytest.raises(InvalidIntake, match=message):
        read_intake_event("intake.screening_updated", updated, TENANT)
