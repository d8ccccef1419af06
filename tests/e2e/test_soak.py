"""`make soak` for 3 minutes, as its own process (its own stand-in on SQLite, vhost and stack):
under worker and API kills, a broker stop and a store restart, every referral is accepted once,
every intake has one plan, every email went out once by content, nothing is dead-lettered but
the deliberate poison, every outbox is empty and no API answered a 5xx other than 503."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MINUTES = 3


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_three_minutes_of_chaos_lose_and_double_nothing(tmp_path):
    out = tmp_path / "soak.json"
    result = subprocess.run(
        [
            sys.executable, "-m", "tools.soak", "--minutes", str(MINUTES), "--rate", "0.2",
            "--settle-minutes", "10", "--seed", "16", "--out", str(out),
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
