"""What the referrer will receive when a plan is closed (page 11), before it is: the discharge
report notifications sends on `plan.completed` (its built-in text,
`referrer_discharge_report.email.j2`, from the same facts planning's event carries: sessions
completed, the reason, each measure's baseline, latest, change and whether it is clinically
improved). A discontinued plan sends the referrer no report: the partner's system is told. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.clinical.outcome_chart import number

OUTCOMES = ("complete", "discontinue")
DEFAULT_COMPLETE_REASON = "treatment completed"


@dataclass(frozen=True)
class OutcomeLine:
    measure: str
    baseline: str
    latest: str
    change: str
    improved: str


@dataclass(frozen=True)
class DischargePreview:
    to: str
    subject: str
    greeting: str
    opening: str
    reason: str
    referral: str
    patient: str
    outcomes: tuple[OutcomeLine, ...]
    clinic: str


def signed(value: float) -> str:
    return f"+{number(value)}" if value > 0 else number(value)


def discharge_preview(
    plan: Mapping[str, Any],
    progress: Mapping[str, Any],
    *,
    patient: str,
    partner_referral_id: str,
    clinic: str,
    reason: str = "",
) -> DischargePreview:
    """The report as the referrer would read it if the plan were completed now."""
    referrer = (plan.get("referral") or {}).get("referrer") or {}
    sessions = int(progress.get("sessions_completed") or 0)
    ref = f" {partner_referral_id}" if partner_referral_id else ""
    return DischargePreview(
        to=referrer.get("email") or "",
        subject=f"Discharge report for your referral{ref}",
        greeting=f"Dear {referrer.get('name') or 'colleague'},",
        opening=(
            f"Treatment for your referral is complete after {sessions} "
            f"session{'' if sessions == 1 else 's'}."
        ),
        reason=reason.strip() or DEFAULT_COMPLETE_REASON,
        referral=partner_referral_id,
        patient=patient,
        outcomes=tuple(
            OutcomeLine(
                m["measure"],
                number(m["baseline"]),
                number(m["latest"]),
                signed(m["change"]),
                "yes" if m.get("clinically_improved") else "no",
            )
            for m in progress.get("measures", ())
        ),
        clinic=clinic,
    )
