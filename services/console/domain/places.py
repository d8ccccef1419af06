"""A location as the console shows it: its name and the time zone its times are shown in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_ZONE = "UTC"


@dataclass(frozen=True)
class Place:
    location_id: str
    name: str
    timezone: str

    @classmethod
    def of(cls, location: Mapping[str, Any]) -> Place:
        return cls(
            location["location_id"],
            location.get("name") or location["location_id"],
            location.get("timezone") or UTC_ZONE,
        )

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(UTC_ZONE)


def place_of(places: Iterable[Place], location_id: str | None) -> Place | None:
    """The place with this id, or None (no location yet, or one the person may not see)."""
    return next((p for p in places if p.location_id == location_id), None)


def zone_for(places: Iterable[Place], location_id: str | None) -> ZoneInfo:
    """Where a time at this location is shown: its zone; without one, the person's first
    location's (a held referral may have none yet), else UTC."""
    listed = list(places)
    found = place_of(listed, location_id) or (listed[0] if listed else None)
    return found.zone if found else ZoneInfo(UTC_ZONE)
