"""The benchmark's figures from what it measured (pure: no I/O). docs/benchmark.md says what
each one means."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from tools.bench import capture

SERVICES = ("intake", "planning", "notifications")
Counters = dict[str, dict[str, float]]
MOST_API_CALLS = 4  # a console page's (docs/conventions.md, "The console")


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[rank], 3)


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def counter_difference(before: Counters, after: Counters) -> Counters:
    out = {s: {k: after[s][k] - before[s][k] for k in after[s]} for s in after}
    out["total"] = {k: sum(out[s][k] for s in SERVICES) for k in ("published", "consumed")}
    return out


def idle_figures(
    window_s: float, commands: list[capture.Command], cpu: Mapping[str, float]
) -> dict[str, Any]:
    return {
        "seconds": round(window_s, 2),
        "mongo_commands_per_s": capture.per(capture.by_kind(commands), window_s),
        "cpu_s_per_s": {name: round(s / window_s, 4) for name, s in cpu.items()},
    }


def loop_figures(
    *,
    referrals: int,
    rate_per_s: float,
    window_s: float,
    commands: list[capture.Command],
    counters: Counters,
    state: dict[str, Any],
    idle: dict[str, Any],
) -> dict[str, Any]:
    kinds = capture.by_kind(commands)
    idle_rate = idle["mongo_commands_per_s"]
    net = {
        service: {
            kind: round((n - idle_rate.get(service, {}).get(kind, 0) * window_s) / referrals, 2)
            for kind, n in by.items()
        }
        for service, by in kinds.items()
    }
    writes = capture.written_documents(commands)
    per_change = {
        s: round(writes.get(s, 0) / state[s], 2) if state.get(s) else None
        for s in (*SERVICES, "total")
    }
    n = referrals
    return {
        "referrals": n,
        "rate_per_s": rate_per_s,
        "seconds": round(window_s, 2),
        "per_referral": {
            "mongo_commands": capture.per(kinds, n),
            "mongo_commands_net_of_idle_polling": net,
            "mongo_write_statements": capture.per(writes, n),
            "amqp_publishes": {s: round(c["published"] / n, 2) for s, c in counters.items()},
            "events_consumed": {s: round(c["consumed"] / n, 2) for s, c in counters.items()},
            "state_changes": {
                **{k: round(v / n, 2) for k, v in state.items() if k != "detail"},
                "detail": capture.per(state["detail"], n),
            },
            "write_statements_per_state_change": per_change,
            "writes_by_collection": capture.per(capture.by_collection(commands, capture.WRITES), n),
            "reads_by_collection": capture.per(capture.by_collection(commands, ("find",)), n),
        },
        "idle": idle,
    }


def cpu_figures(
    *,
    referrals: int,
    window_s: float,
    cpu: Mapping[str, float],
    idle: dict[str, Any],
    counters: Counters,
    bare: dict[str, Any],
) -> dict[str, Any]:
    """CPU per referral of every process; per hop of the workers (the processes that consume
    events), raw and net of idle polling; and the ratio to the bare hop."""
    workers = sum(s for name, s in cpu.items() if name.endswith("-worker"))
    idle_workers = sum(r for name, r in idle["cpu_s_per_s"].items() if name.endswith("-worker"))
    workers_net = workers - idle_workers * window_s
    hops = counters["total"]["consumed"]
    per_hop = workers / hops if hops else None
    per_hop_net = workers_net / hops if hops else None
    bare_per_hop = bare["cpu_ms_per_hop"] / 1000 or None
    return {
        "per_referral_ms": {
            **{name: round(s / referrals * 1000, 2) for name, s in sorted(cpu.items())},
            "total": round(sum(cpu.values()) / referrals * 1000, 2),
        },
        "hops_per_referral": round(hops / referrals, 2),
        "workers_per_hop_ms": round(per_hop * 1000, 3) if per_hop else None,
        "workers_per_hop_net_of_idle_ms": round(per_hop_net * 1000, 3) if per_hop_net else None,
        "bare": bare,
        "ratio_project_to_bare_per_hop": ratio(per_hop, bare_per_hop),
        "ratio_net_of_idle": ratio(per_hop_net, bare_per_hop),
    }


def latency_figures(latencies: list[float], rate_per_s: float) -> dict[str, Any]:
    return {
        "referrals": len(latencies),
        "rate_per_s": rate_per_s,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": round(max(latencies), 3),
        "mean": round(statistics.fmean(latencies), 3),
    }


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The headline figures, per referral unless named otherwise."""
    per = report["loop"]["per_referral"]
    cpu, http, latency = report["cpu"], report["http"], report["latency_publish_to_email_s"]
    return {
        "mongo_commands": round(sum(per["mongo_commands"]["total"].values()), 2),
        "mongo_commands_net_of_idle_polling": round(
            sum(per["mongo_commands_net_of_idle_polling"]["total"].values()), 2
        ),
        "mongo_write_statements": per["mongo_write_statements"].get("total"),
        "state_changes": per["state_changes"]["total"],
        "write_statements_per_state_change": per["write_statements_per_state_change"]["total"],
        "amqp_publishes": per["amqp_publishes"]["total"],
        "hops": cpu["hops_per_referral"],
        "cpu_ms": cpu["per_referral_ms"]["total"],
        "cpu_ratio_to_bare_hop": cpu["ratio_project_to_bare_per_hop"],
        "cpu_ratio_to_bare_hop_net_of_idle": cpu["ratio_net_of_idle"],
        "latency_s_p50_p95_p99": [latency["p50"], latency["p95"], latency["p99"]],
        "http_requests_per_s_real_bare": [
            http["real"]["requests_per_s"],
            http["bare"]["requests_per_s"],
        ],
        "http_cpu_ms_per_request_real_bare": [
            http["real"]["cpu_ms_per_request"],
            http["bare"]["cpu_ms_per_request"],
        ],
        "sign_in_cpu_ms": report["sign_in"]["sign_in_cpu_ms"],
        "token_verification_in_planning_cpu_ms": report["sign_in"]["token_verification_cpu_ms"],
        "console_page_server_ms_p95": {
            name: page["server_ms_p95"] for name, page in report["console"]["pages"].items()
        },
        "console_page_api_calls": {
            name: page["api_calls_max"] for name, page in report["console"]["pages"].items()
        },
        "query_shapes": report["query_shapes"]["count"],
        "unindexed_query_shapes": len(report["query_shapes"]["unindexed"]),
    }


def problems(report: dict[str, Any]) -> list[str]:
    """What makes the run fail: an unindexed query shape, a figure missing or not positive."""
    found = [f"unindexed query: {u}" for u in report["query_shapes"]["unindexed"]]
    cpu, http = report["cpu"], report["http"]
    for name, value in (
        ("cpu ratio", cpu["ratio_project_to_bare_per_hop"]),
        ("hops per referral", cpu["hops_per_referral"]),
        ("http real requests/s", http["real"]["requests_per_s"]),
        ("http bare requests/s", http["bare"]["requests_per_s"]),
        ("http real cpu per request", http["real"]["cpu_ms_per_request"]),
        ("http bare cpu per request", http["bare"]["cpu_ms_per_request"]),
        ("latency p50", report["latency_publish_to_email_s"]["p50"]),
        ("state changes", report["loop"]["per_referral"]["state_changes"]["total"]),
        ("sign-in cpu", report["sign_in"]["sign_in_cpu_ms"]),
        ("token verification cpu", report["sign_in"]["token_verification_cpu_ms"]),
    ):
        if not value or value <= 0:
            found.append(f"{name} is missing or not positive: {value}")
    for side in ("real", "bare"):
        if http[side]["errors"]:
            found.append(f"http {side}: {http[side]['errors']} requests failed")
    return found + console_problems(report["console"])


def console_problems(console: dict[str, Any]) -> list[str]:
    """A console page over the API call limit, or failing."""
    pages = console["pages"].items()
    return [
        f"console page {name} makes {page['api_calls_max']} API calls (at most {MOST_API_CALLS})"
        for name, page in pages
        if page["api_calls_max"] > MOST_API_CALLS
    ] + [
        f"console page {name} failed {page['failed']} times"
        for name, page in pages
        if page["failed"]
    ]
