"""The console's adapter to the three APIs: one client per API, each speaking HTTP with the
signed-in person's access token (the console holds no key of its own), and one error type
(`ApiError`) for whatever they refuse."""

from __future__ import annotations

from dataclasses import dataclass

from services.console.api_clients.errors import ApiError
from services.console.api_clients.http import ServiceApi
from services.console.api_clients.intake import IntakeApi
from services.console.api_clients.notifications import NotificationsApi
from services.console.api_clients.planning import PlanningApi

__all__ = ["ApiError", "Apis", "IntakeApi", "NotificationsApi", "PlanningApi", "ServiceApi"]


@dataclass(frozen=True)
class Apis:
    """The three APIs as one person (or as nobody, for sign-in)."""

    intake: IntakeApi
    planning: PlanningApi
    notifications: NotificationsApi
