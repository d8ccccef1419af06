"""`make bench`, short: every figure is there and sane, and no query the services sent in the
whole loop goes without an index (the matching rules: tests/unit/test_query_shape_rules.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(600)  # the short run's setup: slow on a loaded machine


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    """One short run (one to two minutes), as its own process: its own stand-in, vhost and stack."""
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    run_dir = out.parent / "run"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.bench",
            "--short",
            "--memory",
            "--out",
            str(out),
            "--run-dir",
            str(run_dir),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert out.exists(), f"no report; exit {result.returncode}:\n{result.stderr[-6000:]}"
    return json.loads(out.read_text())


def test_the_short_benchmark_passes_with_every_query_shape_on_an_index(report):
    assert report["problems"] == []
    assert report["query_shapes"]["unindexed"] == []
    assert report["query_shapes"]["count"] >= 20
    assert all(
        shape["index"] or shape.get("whole_collection_read")
        for shape in report["query_shapes"]["shapes"]
    )


def test_the_loop_is_counted_per_referral_per_service(report):
    per = report["loop"]["per_referral"]
    assert report["loop"]["referrals"] >= 4
    for service in ("intake", "planning", "notifications", "total"):
        kinds = per["mongo_commands"][service]
        assert set(kinds) == {"insert", "update", "delete", "find", "other"}
        assert kinds["insert"] >= 1 and kinds["find"] >= 1
        assert per["mongo_write_statements"][service] >= 1
        assert per["state_changes"][service] >= 1
    # a patient, a referral, an intake, a plan, the deliveries: each counted at least once
    detail = per["state_changes"]["detail"]
    assert detail["intake"] == {
        "patient versions": 1.0,
        "referral versions": 1.0,
        "intake versions": 1.0,
    }
    assert detail["planning"]["plan revisions"] == 1.0
    assert detail["notifications"]["delivery outcomes"] >= 3  # patient, referrer, clinic
    # suppressed at once (no SMS consent, no partner webhook): stored, not a change of state
    suppressed = detail["notifications"]["deliveries suppressed at once"]
    assert suppressed >= 1
    assert per["state_changes"]["total_old_method"] == per["state_changes"]["total"] + suppressed
    assert per["amqp_publishes"]["total"] >= 7
    assert per["events_consumed"]["total"] >= 5


def test_writes_stay_near_one_per_state_change(report):
    """Lean-up guard: the outbox and deduplication ride in the state change's own write; what
    remains is the relay marking events sent, intake's audit records and the contact upsert."""
    assert report["summary"]["old_method"]["write_statements_per_state_change"] <= 2.0
    # counted the fair way (no suppressed delivery counted as a change): 2.3 in Dec 2026
    assert report["summary"]["write_statements_per_state_change"] <= 2.5


def test_cpu_is_compared_with_the_bare_hop_in_the_same_run(report):
    cpu = report["cpu"]
    assert cpu["per_referral_ms"]["total"] > 0
    assert cpu["hops_per_referral"] >= 5
    assert cpu["working_hops_per_referral"] + cpu["ack_only_hops_per_referral"] == pytest.approx(
        cpu["hops_per_referral"], abs=0.05
    )
    # every queue is bound to the types its consumer handles only (shared/events/catalog.py)
    assert cpu["ack_only_hops_per_referral"] == 0 and report["loop"]["ack_only_hops"] == []
    # the fair bare hop: the services' prefetch and heartbeats, at the loop's working-hop rate
    assert cpu["bare"]["feeding"]["prefetch"] == 1 and cpu["bare"]["feeding"]["heartbeat_s"] > 0
    assert cpu["bare"]["events"] >= 30 and cpu["bare"]["cpu_ms_per_hop"] > 0
    assert 1 <= cpu["ratio_per_working_hop_to_paced_bare"] < 200
    old = cpu["old_method"]
    assert old["bare_burst"]["events"] >= 150 and old["bare_burst"]["feeding"]["prefetch"] == 10
    assert 1 <= old["ratio_project_to_bare_per_hop"] < 200
    assert report["summary"]["old_method"]["hops"] == cpu["hops_per_referral"]


@pytest.mark.parametrize("rate", ["low_rate", "five_times"])
def test_latency_of_every_stage_is_ordered_and_bounded(report, rate):
    stages = report["latency_s"][rate]
    for stage in ("status_to_partner", "welcome_email", "plan_drafted_after_intake"):
        latency = stages[stage]
        assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"] < 120
    fast = report["plan"]["fast_seconds"] * report["plan"]["rate_per_s"] * 5
    wanted = report["loop"]["referrals"] if rate == "low_rate" else round(fast)
    assert stages["welcome_email"]["referrals"] == wanted


def test_the_resident_memory_of_every_process_is_reported(report):
    rss = report["rss_mb"]
    assert set(rss) == {
        f"{s}-{p}" for s in ("intake", "planning", "notifications") for p in ("api", "worker")
    }
    assert all(20 < tree["total"] < 4000 for tree in rss.values())


def test_http_is_measured_for_a_read_and_a_write_on_the_real_and_the_bare_endpoint(report):
    http = report["http"]
    for kind in ("read", "write"):
        for side in ("real", "bare"):
            measured = http[kind][side]
            assert measured["requests"] > 10 and measured["errors"] == 0, (kind, side, measured)
            assert measured["requests_per_s"] > 0 and measured["cpu_ms_per_request"] > 0
        assert http[kind]["ratio_cpu_per_request"] > 0
    assert report["summary"]["http_write_cpu_ms_per_request_real_bare"] == [
        http["write"]["real"]["cpu_ms_per_request"],
        http["write"]["bare"]["cpu_ms_per_request"],
    ]


def test_the_console_pages_are_timed_from_server_timing_within_four_api_calls(report):
    console = report["console"]
    assert console["seed"]["patients"] == 20 and console["seed"]["sessions"] == 100
    assert set(console["pages"]) >= {"inbox", "patient_search", "patient_chart", "calendar_week"}
    for page in console["pages"].values():
        assert page["requests"] >= 5
        assert 0 < page["server_ms_p50"] <= page["server_ms_p95"] <= page["server_ms_max"]
        assert 1 <= page["api_calls_max"] <= 4
    assert report["summary"]["console_page_api_calls"]["calendar_week"] <= 4
