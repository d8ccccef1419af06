"""The test-only pause points: a no-op unless asked for; when asked, a marker line and a pause."""

from __future__ import annotations

import json
import threading

import pytest

from shared import pause_points


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setattr(pause_points, "_reached", set())
    for name in ("CLINIC_TEST_PAUSE_AT", "CLINIC_TEST_PAUSE_FILE", "CLINIC_TEST_PAUSE_S"):
        monkeypatch.delenv(name, raising=False)


def test_without_the_variable_a_point_returns_at_once_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINIC_TEST_PAUSE_FILE", str(tmp_path / "marker"))
    pause_points.reach("consumer.before_ack", "intake.completed")
    assert not (tmp_path / "marker").exists()


def test_a_point_not_asked_for_or_of_another_detail_does_not_pause(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINIC_TEST_PAUSE_AT", "consumer.before_ack:intake.completed")
    monkeypatch.setenv("CLINIC_TEST_PAUSE_FILE", str(tmp_path / "marker"))
    pause_points.reach("relay.before_mark", "plans")
    pause_points.reach("consumer.before_ack", "referral.accepted")
    assert not (tmp_path / "marker").exists()


def test_an_unknown_point_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown pause point"):
        pause_points.reach("consumer.somewhere")


def test_an_asked_for_point_writes_its_marker_line_blocks_for_the_pause_then_only_once(
    tmp_path, monkeypatch
):
    marker = tmp_path / "marker"
    monkeypatch.setenv("CLINIC_TEST_PAUSE_AT", "consumer.before_ack:intake.completed")
    monkeypatch.setenv("CLINIC_TEST_PAUSE_FILE", str(marker))
    monkeypatch.setenv("CLINIC_TEST_PAUSE_S", "0.3")
    done = threading.Event()

    def reach() -> None:
        pause_points.reach("consumer.before_ack", "intake.completed", event_id="ev-1")
        done.set()

    thread = threading.Thread(target=reach)
    thread.start()
    assert not done.wait(0.1), "the point blocks"
    assert done.wait(5), "and goes on after CLINIC_TEST_PAUSE_S"
    [line] = marker.read_text().splitlines()
    found = json.loads(line)
    assert (found["point"], found["detail"], found["event_id"]) == (
        "consumer.before_ack",
        "intake.completed",
        "ev-1",
    )
    pause_points.reach("consumer.before_ack", "intake.completed")  # once per process
    assert len(marker.read_text().splitlines()) == 1
