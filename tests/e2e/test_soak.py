"""`make soak` for 75 s, a fault every 10 s, as its own process (its own stand-in on SQLite, vhost
and stack): under a worker kill, a store restart, an API kill and a broker stop (the first four
faults of tools/soak/chaos.py's cycle), every referral is accepted once,
every intake has one plan, every email went out once by content, nothing is dead-lettered but
the deliberate poison, every outbox is empty and no API answered a 5xx other than 503."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MINUTES = 1.25
CHAOS_EVERY_S = 10
RATE = 0.5  # partner messages a second: 20 or more published, a broker stop of 25 s included


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_every_kind_of_fault_loses_and_doubles_nothing(tmp_path):
    out = tmp_path / "soak.json"
    result = subprocess.run(
        [
            sys.executable, "-m", "tools.soak", "--minutes", str(MINUTES), "--rate", str(RATE),
            "--chaos-every", str(CHAOS_EVERY_S), "--settle-minutes", "10", "--seed", "16",
            "--out", str(out),
            "--run-dir", str(tmp_path / "run"),
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=1400,
    )  # fmt: skip
    assert out.exists(), f"no report; exit {result.returncode}:\n{result.stderr[-6000:]}"
    report = json.loads(out.read_text())
    summary = json.dumps({k: v for k, v in report.items() if k != "chaos_log"}, indent=1)
    assert result.returncode == 0, summary
    assert report["problems"] == [], summary
    assert report["lost"] == 0 and report["doubled"] == 0, summary
    http = report["http"]  # a fault of the stand-in's own (mongoeco) is not the services'
    assert http["not_503"] == http["not_503_from_the_stand_in"], summary
    assert report["dead_letters_unexpected"] == 0 and report["outboxes_not_empty"] == [], summary
    chaos = report["chaos"]
    assert chaos["worker_kills"] >= 1 and chaos["api_process_kills"] >= 1, summary
    assert chaos["broker_stops"] >= 1 and chaos["store_restarts"] >= 1, summary
    assert report["referrals"]["published"] >= 20, summary
    assert report["referrals"]["native"] and report["referrals"]["fhir"], summary
    assert report["discharges"] == report["referrals"]["published"], summary
    assert report["poison"]["rejected"] == report["poison"]["published"] >= 1, summary
