"""Tenant notification settings (`tenant_configs`, `_id` = tenant), and what they mean.

Stored as one document per tenant (written by the config API); the time zone of each location
comes from the locations replica (intake's `tenant.location_upserted`, `shared.replicas`).
`tenant_settings` turns a stored document into `TenantSettings`: absent fields take the
defaults of `domain.tenant_config.TenantConfig` and `channels.backoff.RetryPolicy`. The worker
reads a tenant's settings for every event and every send through a `shared.cache.TtlCache`
(bootstrap.py), so a config change reaches it within the cache's time to live.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pymongo import ReturnDocument
from pymongo.database import Database

from shared.replicas import locations_of
from shared.tenancy import TenantScoped

from ..channels.backoff import DEFAULT_POLICY, RetryPolicy
from ..domain.tenant_config import TenantConfig

RULE_FIELDS = (
    "quiet_hours", "reminders", "progress_report_every_sessions", "short_notice_margin_minutes",
    "language", "timezone", "phone_region", "staff_emails",
)  # fmt: skip
RETRY_FIELDS = ("max_attempts", "first_delay_s", "max_delay_s", "jitter_s")


@dataclass(frozen=True)
class TenantSettings:
    """A clinic's notification settings, as the rules, the sender and the retry timing need them."""

    rules: TenantConfig = field(default_factory=TenantConfig)
    clinic_name: str = ""
    """The display name configured here; empty: intake's name for the clinic is used
    (`domain.referrer_letters.clinic_name_of`)."""
    retry: RetryPolicy = DEFAULT_POLICY
    webhook_secrets: Mapping[str, str] = field(default_factory=dict)  # partner id -> secret


class TenantConfigs:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, tenant_id: str) -> dict[str, Any] | None:
        return TenantScoped(self.db.tenant_configs, tenant_id).find_one({"_id": tenant_id})

    def put(self, tenant_id: str, document: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        """Replace the tenant's settings (secrets not given are kept)."""
        before = self.get(tenant_id) or {}
        hooks = dict(document.get("partner_webhooks") or {})
        for partner, hook in hooks.items():
            kept = (before.get("partner_webhooks") or {}).get(partner, {}).get("secret")
            if not hook.get("secret") and kept:
                hooks[partner] = {**hook, "secret": kept}
        replacement = {**document, "partner_webhooks": hooks, "tenant_id": tenant_id}
        stored = TenantScoped(self.db.tenant_configs, tenant_id).find_one_and_replace(
            {"_id": tenant_id},
            {**replacement, "updated_at": now},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return dict(stored or {})

    def settings(self, tenant_id: str) -> TenantSettings:
        """The tenant's settings, with its locations' time zones (two reads)."""
        zones = {
            location.location_id: location.timezone for location in locations_of(self.db, tenant_id)
        }
        return tenant_settings(tenant_id, self.get(tenant_id), zones)


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
        clinic_name=document.get("clinic_name") or "",
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
