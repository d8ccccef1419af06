"""The stored plan document read as domain values (referral terms, progress, sessions), and back.

A plan is one document per referral with its sessions, measurements and history inside (see
repository/plans.py). These functions only read or build parts of it: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from services.planning.domain.intake_summary import Diagnosis, Referral
from services.planning.domain.plan_lifecycle import HistoryEntry
from services.planning.domain.progress import Measurement, PlanProgress, plan_progress
from services.planning.domain.scheduling import Session, counted_visits

# --- referral terms ----------------------------------------------------------------------------


def referral_document(referral: Referral, referrer: Mapping[str, Any], version: int) -> dict:
    return {
        "authorized_visits": referral.authorized_visits,
        "valid_from": referral.valid_from.isoformat(),
        "expires_on": referral.expires_on.isoformat(),
        "diagnoses": [{"code": d.code, "display": d.display} for d in referral.diagnoses],
        "body_sites": list(referral.body_sites),
        "referrer": {"name": referrer.get("name"), "email": referrer.get("email")},
        "version": version,
    }


def referral_of(plan: Mapping[str, Any]) -> Referral:
    raw = plan["referral"]
    return Referral(
        authorized_visits=raw["authorized_visits"],
        valid_from=date.fromisoformat(raw["valid_from"]),
        expires_on=date.fromisoformat(raw["expires_on"]),
        diagnoses=tuple(Diagnosis(d["code"], d.get("display", "")) for d in raw["diagnoses"]),
        body_sites=tuple(raw.get("body_sites", ())),
    )


def amended_terms(plan: Mapping[str, Any] | None) -> Referral | None:
    """Terms from a "referral amended" event (version > 0) win over the intake's copy."""
    if plan is None or not plan.get("referral") or not plan["referral"].get("version"):
        return None
    return referral_of(plan)


def referrer_of(plan: Mapping[str, Any]) -> dict[str, Any]:
    referrer = (plan.get("referral") or {}).get("referrer") or {}
    return {"name": referrer.get("name"), "email": referrer.get("email")}


# --- content, versions and history -------------------------------------------------------------


def plan_view(plan: Mapping[str, Any]) -> dict[str, Any]:
    """What the lifecycle rules see and what history keeps: status, version and content."""
    return {"status": plan["status"], "version": plan.get("version", 0), **plan.get("content", {})}


def content_of(view: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in ("status", "version")}


def history_document(entry: HistoryEntry) -> dict[str, Any]:
    return asdict(entry) | {"snapshot": dict(entry.snapshot)}


def version_stamp(by: str, name: str, at: datetime) -> dict[str, Any]:
    """Who made the plan's current version, and when (kept as ``last_change``)."""
    return {"by": by, "name": name, "at": at}


def last_change_of(plan: Mapping[str, Any]) -> dict[str, Any]:
    """Who made the current version and when: its stamp; for a plan stamped before stamps were
    kept, the last history entry (no name), else its creation (by planning, from the intake)."""
    if plan.get("last_change"):
        return dict(plan["last_change"])
    history = plan.get("history") or ()
    if history:
        return {"by": history[-1]["changed_by"], "name": None, "at": history[-1]["changed_at"]}
    return {"by": "system:planning", "name": None, "at": plan.get("created_at")}


# --- progress ----------------------------------------------------------------------------------


def progress_of(plan: Mapping[str, Any]) -> PlanProgress:
    targets = {g["measure"]: g["target"] for g in (plan.get("content") or {}).get("goals", ())}
    measurements = [
        Measurement(m["measure"], m["score"], m["taken_at"]) for m in plan.get("measurements", ())
    ]
    return plan_progress(plan.get("baseline") or {}, measurements, targets)


def measures_payload(progress: PlanProgress) -> list[dict[str, Any]]:
    return [
        {
            "measure": m.measure,
            "baseline": m.baseline,
            "latest": m.latest,
            "change": m.change,
            "percent_change": m.percent_change,
            "clinically_improved": m.clinically_improved,
            "target": m.target,
            "goal_met": m.goal_met,
        }
        for m in progress.measures
    ]


def measure_points(plan: Mapping[str, Any], measure: str) -> list[dict[str, Any]]:
    """Every measurement of one measure, oldest first (the baseline is the plan's, apart)."""
    taken = [m for m in plan.get("measurements", ()) if m["measure"] == measure]
    return [
        {"score": m["score"], "taken_at": m["taken_at"], "session_id": m.get("session_id")}
        for m in sorted(taken, key=lambda m: m["taken_at"])
    ]


def last_assessed_at(plan: Mapping[str, Any]) -> datetime | None:
    """When outcome measures were last taken: the latest measurement, else the intake."""
    taken = [m["taken_at"] for m in plan.get("measurements", ())]
    return max(taken) if taken else plan.get("intake_completed_at")


def sessions_since(plan: Mapping[str, Any], moment: datetime | None) -> int:
    """Completed sessions that started after `moment` (all of them when it is None)."""
    return sum(
        1
        for s in plan.get("sessions", ())
        if s["status"] == "completed" and (moment is None or s["starts_at"] > moment)
    )


# --- sessions ----------------------------------------------------------------------------------


def sessions_completed(plan: Mapping[str, Any]) -> int:
    return sessions_since(plan, None)


def visits_used(plan: Mapping[str, Any]) -> int:
    return counted_visits(s["status"] for s in plan.get("sessions", ()))


def session_of(raw: Mapping[str, Any]) -> Session:
    """A stored session as the scheduling rules see it (rooms keyed by location and room)."""
    return Session(
        session_id=raw["session_id"],
        therapist_id=raw["therapist_id"],
        room_id=raw.get("room_key"),
        start=raw["starts_at"],
        duration_minutes=raw["duration_minutes"],
        status=raw["status"],
    )


def find_session(plan: Mapping[str, Any], session_id: str) -> dict[str, Any] | None:
    return next((s for s in plan.get("sessions", ()) if s["session_id"] == session_id), None)


def replace_session(plan: Mapping[str, Any], session: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        dict(session) if s["session_id"] == session["session_id"] else s
        for s in plan.get("sessions", ())
    ]


def cancel_future_sessions(
    sessions: Sequence[Mapping[str, Any]], now: datetime, reason: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """All sessions, with the scheduled ones still to come cancelled by the clinic; and those."""
    updated, cancelled = [], []
    for session in sessions:
        if session["status"] == "scheduled" and session["starts_at"] > now:
            session = {
                **session,
                "status": "cancelled",
                "cancelled_by": "clinic",
                "cancel_reason": reason,
                "updated_at": now,
            }
            cancelled.append(session)
        updated.append(dict(session))
    return updated, cancelled
