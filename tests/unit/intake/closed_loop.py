"""A referral as intake stores it, and planning's events of its care, for the closed-loop tests."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from importlib import resources

from services.intake import events
from services.intake.domain import milestones
from services.intake.domain.fhir_task import TaskContext
from services.intake.domain.referral_record import terms_of
from services.intake.partner_forms.reading import read_referral
from shared.events import catalog

START = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
CONTEXT = TaskContext("Northside Massage", "northside", "https://intake.clinic.example", START)
BUNDLE = resources.files("services.intake.partner_forms") / "examples" / "referral_bundle.json"
ANSWERS = {
    "id": "7c1f0e9a-52d4-4b8e-9a61-0d3c2b1a9f04",
    "source": "https://referrals.partner.example.org",
}
"""The partner's message the referral stands on (docs/partners.md's FHIR referral example)."""

PLAN = {
    "plan_id": "pln_0123456789abcdef0123",
    "referral_id": "ref_0123456789abcdef0123",
    "patient_id": "pat_0123456789abcdef0123",
    "location_id": "main",
    "referrer": {"name": "David Chen", "email": "d.chen@clinic.example.org"},
}


def stored_referral() -> dict:
    """The FHIR example as intake stores it once accepted."""
    bundle = json.loads(BUNDLE.read_text(encoding="utf-8"))
    terms = terms_of(read_referral("fhir", bundle, region="US"))
    return {
        "_id": "ref_0123456789abcdef0123",
        "tenant_id": "northside",
        "partner_id": "acme-ehr",
        "partner_referral_id": terms["partner_referral_id"],
        "location_id": "main",
        "patient_id": "pat_0123456789abcdef0123",
        "status": "accepted",
        "version": 1,
        "terms": terms,
        "received_at": START,
        "answers": dict(ANSWERS),
    }


def measure(name: str, baseline: float, latest: float, target: float, improved: bool) -> dict:
    change = latest - baseline
    return {
        "measure": name,
        "baseline": baseline,
        "latest": latest,
        "change": change,
        "percent_change": round(change / baseline * 100, 1),
        "clinically_improved": improved,
        "target": target,
        "goal_met": latest <= target,
    }


def planning_data(
    type_: str, sessions: int = 0, reason: str = "goals met", only: tuple[str, ...] = ()
) -> dict:
    """The data of a planning event, as its payload schema loads it (`only`: these measures)."""
    measures = [
        measure("NPRS", 7, 7 - min(sessions, 4), 4, sessions >= 2),
        measure("NDI", 40, 40 - 4 * sessions, 20, sessions >= 4),
        measure("ODI", 30, 30 - 2 * sessions, 20, False),
    ]
    measures = [m for m in measures if not only or m["measure"] in only]
    raw = {
        "plan.activated": {
            **PLAN,
            "summary": {
                "techniques": ["myofascial release", "trigger point therapy"],
                "planned_sessions": 8,
                "frequency_per_week": 2,
                "goals": [
                    goal
                    for goal in (
                        {"measure": "NPRS", "baseline": 7, "target": 4},
                        {"measure": "NDI", "baseline": 40, "target": 20},
                    )
                    if not only or goal["measure"] in only
                ],
            },
        },
        "progress.updated": {
            **PLAN, "measures": measures, "newly_improved": [], "sessions_completed": sessions,
        },
        "plan.completed": {
            **PLAN, "measures": measures, "sessions_completed": sessions, "reason": reason,
        },
        "plan.discontinued": {
            **PLAN, "measures": measures, "sessions_completed": sessions, "reason": reason,
        },
    }[type_]  # fmt: skip
    return catalog.event_type(type_).payload().load(copy.deepcopy(raw))


COURSE = [
    ("plan.activated", 0),
    ("progress.updated", 2),
    ("progress.updated", 4),
    ("plan.completed", 4),
]
"""A referral's care: plan approved, two progress reports, discharge."""


def with_milestones(
    referral: dict, course: list[tuple[str, int]], only: tuple[str, ...] = ()
) -> dict:
    kept = [
        milestones.milestone(
            type_,
            planning_data(type_, sessions, only=only),
            f"clinic/planning#e{i}",
            START + timedelta(days=7 * i),
        )
        for i, (type_, sessions) in enumerate(course, 1)
    ]
    return {**referral, "milestones": kept}


DOCS_COURSE = [("plan.activated", 0), ("progress.updated", 4), ("plan.completed", 8)]
"""The course of docs/partners.md's status examples (one measure: NPRS)."""
DOCS_CONTEXT = TaskContext(
    "Northside Massage", "northside-massage", "https://intake.clinic.example",
    START + timedelta(days=21),
)  # fmt: skip


HELD_FOR = {
    "item": "authorized_visits",
    "message": "no total number of visits, only a rate (2 per 1 wk)",
}


def docs_status_events(status_format: str) -> list:
    """The status events docs/partners.md shows, as the service builds them: the referral held
    for its visit count (`referral.received`), then its milestones of care."""
    held = {
        **stored_referral(),
        "tenant_id": "northside-massage",
        "status": "needs_review",
        "patient_id": None,
        "pending": [HELD_FOR],
    }
    received_context = TaskContext(
        DOCS_CONTEXT.clinic_name, DOCS_CONTEXT.tenant_id, DOCS_CONTEXT.base_url, START
    )
    built = events.referral_held(held, status_format, received_context)
    for steps in range(1, len(DOCS_COURSE) + 1):
        referral = with_milestones(
            {**stored_referral(), "tenant_id": "northside-massage"},
            DOCS_COURSE[:steps],
            only=("NPRS",),
        )
        milestone = referral["milestones"][-1]
        built.append(events.referral_milestone(referral, milestone, status_format, DOCS_CONTEXT))
    return built
