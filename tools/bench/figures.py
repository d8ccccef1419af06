"""The benchmark's figures from what it measured (pure: no I/O). docs/benchmark.md says what
each one means."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from tools.bench import capture, care, loop

SERVICES = ("intake", "planning", "notifications")
STAGE_NAMES = (*loop.STAGES, *care.STAGES)
HTTP_KINDS = ("read", "write")  # the endpoints measured against the bare app (benchmark._http)
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
    per_change_old = (
        round(writes.get("total", 0) / state["total_old_method"], 2)
        if state.get("total_old_method")
        else None
    )
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
            "write_statements_per_state_change_old_method": per_change_old,
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
    hops: Mapping[str, float],
    bare: dict[str, Any],
    bare_burst: dict[str, Any],
) -> dict[str, Any]:
    """CPU per referral of every process; per hop of the workers (the processes that consume
    events), raw and net of idle polling; and the ratio to the bare hop.

    The fair ratio: workers' CPU per hop that does work (`hops["working"]`; ack-only hops are
    not hops of the loop) against the bare hop fed at the same rate with the same prefetch and
    heartbeats (`bare`). The old method: per hop consumed, against the bare hop in bursts
    (`bare_burst`)."""
    workers = sum(s for name, s in cpu.items() if name.endswith("-worker"))
    idle_workers = sum(r for name, r in idle["cpu_s_per_s"].items() if name.endswith("-worker"))
    workers_net = workers - idle_workers * window_s
    consumed, working = counters["total"]["consumed"], hops["working"]

    def per(seconds: float, n: float) -> float | None:
        return seconds / n if n else None

    bare_s, burst_s = bare["cpu_ms_per_hop"] / 1000 or None, bare_burst["cpu_ms_per_hop"] / 1000
    per_hop, per_hop_net = per(workers, consumed), per(workers_net, consumed)
    per_working, per_working_net = per(workers, working), per(workers_net, working)
    return {
        "per_referral_ms": {
            **{name: round(s / referrals * 1000, 2) for name, s in sorted(cpu.items())},
            "total": round(sum(cpu.values()) / referrals * 1000, 2),
        },
        "hops_per_referral": round(consumed / referrals, 2),
        "working_hops_per_referral": round(working / referrals, 2),
        "ack_only_hops_per_referral": round(hops["ack_only"] / referrals, 2),
        "workers_per_working_hop_ms": _ms(per_working),
        "workers_per_working_hop_net_of_idle_ms": _ms(per_working_net),
        "bare": bare,
        "ratio_per_working_hop_to_paced_bare": ratio(per_working, bare_s),
        "ratio_per_working_hop_to_paced_bare_net_of_idle": ratio(per_working_net, bare_s),
        "old_method": {
            "workers_per_hop_ms": _ms(per_hop),
            "workers_per_hop_net_of_idle_ms": _ms(per_hop_net),
            "bare_burst": bare_burst,
            "ratio_project_to_bare_per_hop": ratio(per_hop, burst_s),
            "ratio_net_of_idle": ratio(per_hop_net, burst_s),
        },
    }


def _ms(seconds: float | None) -> float | None:
    return round(seconds * 1000, 3) if seconds else None


def stage_latency_figures(stages: Mapping[str, list[float]], rate_per_s: float) -> dict[str, Any]:
    """p50/p95/p99 (nearest rank), max and mean of each stage of the loop at one rate."""
    return {
        "rate_per_s": rate_per_s,
        **{name: latency_figures(values, rate_per_s) for name, values in stages.items() if values},
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
    """The headline figures, per referral unless named otherwise; `old_method` beside them
    (as `make bench` computed them before the fair method), from the same run."""
    per = report["loop"]["per_referral"]
    cpu, http = report["cpu"], report["http"]
    stages, stages_5x = report["latency_s"]["low_rate"], report["latency_s"]["five_times"]

    def p(stage: dict[str, Any] | None) -> list[float] | None:
        return [stage["p50"], stage["p95"], stage["p99"]] if stage else None

    return {
        "mongo_commands": round(sum(per["mongo_commands"]["total"].values()), 2),
        "mongo_commands_net_of_idle_polling": round(
            sum(per["mongo_commands_net_of_idle_polling"]["total"].values()), 2
        ),
        "mongo_write_statements": per["mongo_write_statements"].get("total"),
        "state_changes": per["state_changes"]["total"],
        "write_statements_per_state_change": per["write_statements_per_state_change"]["total"],
        "amqp_publishes": per["amqp_publishes"]["total"],
        "working_hops": cpu["working_hops_per_referral"],
        "ack_only_hops": cpu["ack_only_hops_per_referral"],
        "cpu_ms": cpu["per_referral_ms"]["total"],
        "cpu_ratio_per_working_hop_to_paced_bare": cpu["ratio_per_working_hop_to_paced_bare"],
        "cpu_ratio_per_working_hop_to_paced_bare_net_of_idle": cpu[
            "ratio_per_working_hop_to_paced_bare_net_of_idle"
        ],
        "latency_s_p50_p95_p99": {name: p(stages.get(name)) for name in STAGE_NAMES},
        "latency_s_p50_p95_p99_at_5x": {name: p(stages_5x.get(name)) for name in STAGE_NAMES},
        "rss_mb": {name: tree["total"] for name, tree in report["rss_mb"].items()},
        **{
            f"http_{kind}_{figure}_real_bare": [
                http[kind]["real"][figure],
                http[kind]["bare"][figure],
            ]
            for kind in HTTP_KINDS
            for figure in ("requests_per_s", "cpu_ms_per_request")
        },
        **{
            f"http_{kind}_ratio_cpu_per_request": http[kind]["ratio_cpu_per_request"]
            for kind in HTTP_KINDS
        },
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
        "old_method": {
            "state_changes": per["state_changes"]["total_old_method"],
            "write_statements_per_state_change": per[
                "write_statements_per_state_change_old_method"
            ],
            "hops": cpu["hops_per_referral"],
            "cpu_ratio_to_bare_hop": cpu["old_method"]["ratio_project_to_bare_per_hop"],
            "cpu_ratio_to_bare_hop_net_of_idle": cpu["old_method"]["ratio_net_of_idle"],
            "latency_s_p50_p95_p99": p(stages.get("welcome_email")),
        },
    }


def problems(report: dict[str, Any]) -> list[str]:
    """What makes the run fail: an unindexed query shape, a figure missing or not positive."""
    found = [f"unindexed query: {u}" for u in report["query_shapes"]["unindexed"]]
    cpu, http = report["cpu"], report["http"]
    for name, value in (
        ("cpu ratio", cpu["ratio_per_working_hop_to_paced_bare"]),
        ("working hops per referral", cpu["working_hops_per_referral"]),
        *(
            (f"http {kind} {side} {label}", http[kind][side][figure])
            for kind in HTTP_KINDS
            for side in ("real", "bare")
            for label, figure in (
                ("requests/s", "requests_per_s"),
                ("cpu per request", "cpu_ms_per_request"),
            )
        ),
        *(
            (f"latency p50 of {name}", report["latency_s"]["low_rate"].get(name, {}).get("p50"))
            for name in STAGE_NAMES
        ),
        ("state changes", report["loop"]["per_referral"]["state_changes"]["total"]),
        ("sign-in cpu", report["sign_in"]["sign_in_cpu_ms"]),
        ("token verification cpu", report["sign_in"]["token_verification_cpu_ms"]),
    ):
        if not value or value <= 0:
            found.append(f"{name} is missing or not positive: {value}")
    for kind in HTTP_KINDS:
        for side in ("real", "bare"):
            if http[kind][side]["errors"]:
                found.append(f"http {kind} {side}: {http[kind][side]['errors']} requests failed")
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
