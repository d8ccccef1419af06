"""The composition root of the console: what every request shares, built once per process.

`Deps` carries the settings, one HTTP connection pool for the three APIs, the person behind
each access token (intake's `GET /auth/me`, kept 20 seconds: a page makes that call at most
once in a while, not once per page), and the guard that renews each session's tokens once even
when two pages ask at the same moment. The console holds no key of its own: every call but
sign-in is made with the signed-in person's access token (`deps.apis(token)`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from services.console.api_clients import Apis, IntakeApi, NotificationsApi, PlanningApi, ServiceApi
from shared.cache import TtlCache
from shared.clock import Clock, utc_now
from shared.config import Settings

PERSON_CACHE_TTL_S = 20.0
REFRESH_ANSWER_KEPT_S = 30.0


class RefreshGuard:
    """Renews a session's tokens once per refresh token in this process: intake ends a session
    whose old refresh token is used again (a stolen copy, it must assume), so two pages of one
    person asking at once must not both present it. The second gets the first one's answer."""

    def __init__(self, kept_s: float = REFRESH_ANSWER_KEPT_S) -> None:
        self.kept_s = kept_s
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[float, dict[str, Any]]] = {}

    def refresh(self, refresh_token: str, renew: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
        key = hashlib.sha256(refresh_token.encode()).hexdigest()
        with self._lock:
            now = time.monotonic()
            self._answers = {k: v for k, v in self._answers.items() if now - v[0] < self.kept_s}
            if key in self._answers:
                return self._answers[key][1]
            answer = renew(refresh_token)
            self._answers[key] = (now, answer)
            return answer


@dataclass(frozen=True)
class Deps:
    settings: Settings
    http: requests.Session
    refreshes: RefreshGuard = field(default_factory=RefreshGuard)
    clock: Clock = utc_now
    people: TtlCache[str, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        load = lambda token: self.apis(token).intake.me()  # noqa: E731
        object.__setattr__(self, "people", TtlCache(load, PERSON_CACHE_TTL_S, max_items=2000))

    def apis(self, token: str | None = None, forwarded_for: str | None = None) -> Apis:
        """The three APIs as the person whose access token this is (None: nobody, to sign in)."""
        own = self.settings.own

        def api(name: str, url: str) -> ServiceApi:
            return ServiceApi(
                name,
                url,
                self.http,
                token=token,
                forwarded_for=forwarded_for,
                timeout_s=own.console_api_timeout_s,
            )

        return Apis(
            intake=IntakeApi(api("intake", own.intake_api_url)),
            planning=PlanningApi(api("planning", own.planning_api_url)),
            notifications=NotificationsApi(api("notifications", own.notifications_api_url)),
        )


def bootstrap(settings: Settings) -> Deps:
    session = requests.Session()
    session.headers["User-Agent"] = "clinic-console"
    return Deps(settings=settings, http=session)
