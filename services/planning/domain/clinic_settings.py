"""A clinic's planning settings: its referral alert thresholds and its re-assessment policy.

A clinic that has set none uses the defaults of the domain rules (2 visits and 14 days before
a referral runs out; re-assess after 6 sessions or 30 days).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.planning.domain.progress import DEFAULT_REASSESSMENT, ReassessmentPolicy
from services.planning.domain.referral_tracking import DEFAULT_THRESHOLDS, AlertThresholds


@dataclass(frozen=True)
class ClinicSettings:
    alerts: AlertThresholds = DEFAULT_THRESHOLDS
    reassessment: ReassessmentPolicy = DEFAULT_REASSESSMENT

    def to_dict(self) -> dict[str, Any]:
        return {
            "referral_alerts": {
                "visits_remaining": list(self.alerts.visits_remaining),
                "days_remaining": list(self.alerts.days_remaining),
            },
            "reassessment": {
                "every_sessions": self.reassessment.every_sessions,
                "every_days": self.reassessment.every_days,
            },
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ClinicSettings:
        alerts, reassess = raw["referral_alerts"], raw["reassessment"]
        return cls(
            AlertThresholds(
                tuple(sorted(set(alerts["visits_remaining"]))),
                tuple(sorted(set(alerts["days_remaining"]))),
            ),
            ReassessmentPolicy(reassess["every_sessions"], reassess["every_days"]),
        )
