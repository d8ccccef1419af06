"""Use cases on the clinic's planning settings (referral alert thresholds, re-assessment policy):
read by any staff member, replaced by an admin (the roles are the API's). No patient data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.planning.bootstrap import Deps
from services.planning.domain.clinic_settings import ClinicSettings
from services.planning.repository.clinic_settings import save_clinic_settings
from shared.web.auth import Principal


def get_clinic_settings(deps: Deps, principal: Principal) -> dict[str, Any]:
    """The clinic's settings (the defaults when it has set none)."""
    return deps.clinic_settings.get(principal.tenant_id).to_dict()


def replace_clinic_settings(
    deps: Deps, principal: Principal, body: Mapping[str, Any]
) -> dict[str, Any]:
    settings = ClinicSettings.from_dict(body)
    save_clinic_settings(deps.db, principal.tenant_id, settings, principal.actor)
    deps.clinic_settings.forget(principal.tenant_id)
    return settings.to_dict()
