"""A clinic's notification settings, as the rules, the sender and the retry timing need them.

Stored as one document per tenant (`tenant_configs`, written by the config API); the time zone
of each location comes from the `locations` replica (intake's `tenant.location_upserted`).
Absent fields take the defaults of `rules.TenantConfig` and `backoff.RetryPolicy`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..channels.backoff import DEFAULT_POLICY, RetryPolicy
from ..domain.rules import TenantConfig

RULE_FIELDS = (
    "quiet_hours", "reminders", "progress_report_every_sessions", "short_notice_margin_minutes",
    "language", "timezone", "phone_region", "staff_emails",
)  # fmt: skip
RETRY_FIELDS = ("max_attempts", "first_delay_s", "max_delay_s", "jitter_s")


@dataclass(frozen=True)
class TenantSettings:
    rules: TenantConfig = field(default_factory=TenantConfig)
    clinic_name: str = ""
    retry: RetryPolicy = DEFAULT_POLICY
    webhook_secrets: Mapping[str, str] = field(default_factory=dict)  # partner id -> secret


def tenant_settings(
    tenant_id: str,
    document: Mapping[str, Any] | None,
    location_timezones: Mapping[str, str] | None = None,
) -> TenantSettings:
    """Settings from a stored config document; raises ValueError if the document is invalid."""
    document = document or {}
    hooks = document.get("partner_webhooks") or {}
    rules = TenantConfig.from_mapping(
        {
            **{key: document[key] for key in RULE_FIELDS if key in document},
            "partner_webhooks": {partner: hook["url"] for partner, hook in hooks.items()},
            "location_timezones": known_zones(location_timezones or {}),
        }
    )
    retry = document.get("retry") or {}
    return TenantSettings(
        rules=rules,
        clinic_name=document.get("clinic_name") or tenant_id,
        retry=RetryPolicy(**{key: retry[key] for key in RETRY_FIELDS if key in retry}),
        webhook_secrets={p: hook["secret"] for p, hook in hooks.items() if hook.get("secret")},
    )


def known_zones(location_timezones: Mapping[str, str]) -> dict[str, str]:
    """Locations whose zone this machine knows (one bad replica row must not stop a tenant)."""
    known = {}
    for location, tz in location_timezones.items():
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            continue
        known[location] = tz
    return known
