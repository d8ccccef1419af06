"""Per-clinic planning settings: referral alert thresholds and the re-assessment policy.

A clinic without its own settings uses the defaults of the domain rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database

from services.planning.domain.progress import DEFAULT_REASSESSMENT, ReassessmentPolicy
from services.planning.domain.referral_tracking import DEFAULT_THRESHOLDS, AlertThresholds
from shared.tenancy import TenantScoped


@dataclass(frozen=True)
class PlanningSettings:
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
    def from_dict(cls, raw: Mapping[str, Any]) -> PlanningSettings:
        alerts, reassess = raw["referral_alerts"], raw["reassessment"]
        return cls(
            AlertThresholds(
                tuple(sorted(set(alerts["visits_remaining"]))),
                tuple(sorted(set(alerts["days_remaining"]))),
            ),
            ReassessmentPolicy(reassess["every_sessions"], reassess["every_days"]),
        )


def load_settings(db: Database, tenant_id: str) -> PlanningSettings:
    document = TenantScoped(db.tenant_settings, tenant_id).find_one({"_id": tenant_id})
    return PlanningSettings() if document is None else PlanningSettings.from_dict(document)


def save_settings(db: Database, tenant_id: str, settings: PlanningSettings, by: str) -> None:
    TenantScoped(db.tenant_settings, tenant_id).update_one(
        {"_id": tenant_id},
        {"$set": {**settings.to_dict(), "updated_by": by, "updated_at": datetime.now(UTC)}},
        upsert=True,
    )
