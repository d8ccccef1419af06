"""The clinic's planning settings as stored: one document per clinic (`_id` = its tenant id).

The collection keeps its first name, `tenant_settings`, so settings clinics have saved stay.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.database import Database

from services.planning.domain.clinic_settings import ClinicSettings
from shared.tenancy import TenantScoped

COLLECTION = "tenant_settings"


def load_clinic_settings(db: Database, tenant_id: str) -> ClinicSettings:
    """The clinic's settings, or the defaults when it has saved none."""
    document = TenantScoped(db[COLLECTION], tenant_id).find_one({"_id": tenant_id})
    return ClinicSettings() if document is None else ClinicSettings.from_dict(document)


def save_clinic_settings(db: Database, tenant_id: str, settings: ClinicSettings, by: str) -> None:
    TenantScoped(db[COLLECTION], tenant_id).update_one(
        {"_id": tenant_id},
        {"$set": {**settings.to_dict(), "updated_by": by, "updated_at": datetime.now(UTC)}},
        upsert=True,
    )
