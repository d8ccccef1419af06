from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.planning.domain.plan_lifecycle import (
    EDITABLE_FIELDS,
    PLAN_TRANSITIONS,
    EditNotAllowed,
    InvalidTransition,
    change_status,
    check_edit,
    edit_plan,
    transition,
)

NOW = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)
STATES = sorted(PLAN_TRANSITIONS)


def plan(status: str = "draft", version: int = 1, **fields) -> dict:
    return {"status": status, "version": version, "planned_sessions": 8, "notes": "", **fields}


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("held", "draft"),
        ("held", "cannot_plan"),
        ("held", "discontinued"),
        ("draft", "active"),
        ("draft", "discontinued"),
        ("active", "completed"),
        ("active", "discontinued"),
    ],
)
def test_an_allowed_transition_returns_the_new_state(current, target):
    assert transition(current, target) == target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("draft", "completed"),
        ("active", "draft"),
        ("completed", "active"),
        ("discontinued", "active"),
        ("cannot_plan", "draft"),
        ("held", "active"),
        ("active", "active"),
    ],
)
def test_a_transition_outside_the_table_is_refused_saying_what_is_allowed(current, target):
    with pytest.raises(InvalidTransition, match=f"from '{current}' to '{target}'"):
        transition(current, target)


@pytest.mark.parametrize("final", ["completed", "discontinued", "cannot_plan"])
def test_a_final_state_says_it_is_final(final):
    with pytest.raises(InvalidTransition, match="it is final"):
        transition(final, "draft")


@pytest.mark.parametrize(("current", "target"), [("approved", "active"), ("draft", "approved")])
def test_an_unknown_state_is_refused_by_name(current, target):
    with pytest.raises(InvalidTransition, match="unknown plan state 'approved'"):
        transition(current, target)


@given(st.sampled_from(STATES), st.sampled_from(STATES))
def test_transition_agrees_with_the_table_for_every_pair_of_states(current, target):
    if target in PLAN_TRANSITIONS[current]:
        assert transition(current, target) == target
    else:
        with pytest.raises(InvalidTransition):
            transition(current, target)


@pytest.mark.parametrize(
    ("status", "fields", "allowed"),
    [
        ("draft", {"planned_sessions", "techniques", "goals"}, True),
        ("active", {"techniques", "goals", "notes"}, True),
        ("active", {"planned_sessions"}, False),
        ("active", {"start_on"}, False),
        ("draft", {"diagnoses"}, False),
        ("draft", {"status"}, False),
        ("completed", {"notes"}, False),
        ("held", {"techniques"}, False),
    ],
)
def test_edits_are_allowed_only_for_the_fields_the_status_permits(status, fields, allowed):
    if allowed:
        check_edit(status, fields)
    else:
        with pytest.raises(EditNotAllowed, match=", ".join(sorted(fields))):
            check_edit(status, fields)


def test_active_plans_allow_a_strict_subset_of_draft_edits():
    assert EDITABLE_FIELDS["active"] < EDITABLE_FIELDS["draft"]


def test_an_edit_increments_the_version_and_keeps_the_previous_snapshot():
    before = plan(planned_sessions=8, notes="first")

    change = edit_plan(before, {"planned_sessions": 6}, "therapist-1", NOW)

    assert change.plan == {**before, "planned_sessions": 6, "version": 2}
    entry = change.history_entry
    assert (entry.version, entry.snapshot) == (1, before)
    assert entry.changed_fields == ("planned_sessions",)
    assert (entry.changed_by, entry.changed_at) == ("therapist-1", NOW)


def test_an_edit_that_changes_nothing_makes_no_new_version():
    assert edit_plan(plan(notes="same"), {"notes": "same"}, "therapist-1", NOW) is None


def test_only_fields_that_really_change_are_recorded():
    change = edit_plan(plan(notes="a"), {"notes": "a", "planned_sessions": 6}, "t-1", NOW)

    assert change.history_entry.changed_fields == ("planned_sessions",)


def test_an_edit_refused_in_an_active_plan_names_the_fields():
    with pytest.raises(EditNotAllowed, match="'active' plan does not allow changing: start_on"):
        edit_plan(plan("active"), {"start_on": "2025-04-01", "notes": "x"}, "t-1", NOW)


def test_the_snapshot_does_not_change_when_the_new_version_is_mutated():
    before = plan(goals=[{"measure": "NPRS", "target": 5.0}])
    change = edit_plan(before, {"notes": "x"}, "t-1", NOW)

    change.plan["goals"][0]["target"] = 3.0

    assert change.history_entry.snapshot["goals"][0]["target"] == 5.0
    assert before["goals"][0]["target"] == 5.0


def test_the_history_already_kept_is_not_copied_into_new_snapshots():
    change = edit_plan(plan(history=[{"version": 0}]), {"notes": "x"}, "t-1", NOW)

    assert "history" not in change.history_entry.snapshot


def test_a_status_change_is_a_new_version_too():
    change = change_status(plan("draft", version=3), "active", "lead-1", NOW)

    assert (change.plan["status"], change.plan["version"]) == ("active", 4)
    assert change.history_entry.snapshot["status"] == "draft"
    assert change.history_entry.changed_fields == ("status",)


def test_a_status_change_outside_the_table_is_refused():
    with pytest.raises(InvalidTransition):
        change_status(plan("completed"), "active", "lead-1", NOW)
