"""HTTP as clinic staff: one member's bearer key on the three APIs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from testkit.errors import StepFailed


class StaffClient:
    """`urls` maps each service to its API (`LocalStack.urls`, or `make run`'s ports); `who` names
    the staff member in a failure."""

    def __init__(self, urls: Mapping[str, str], raw_key: str, who: str = "staff") -> None:
        self.urls, self.who = urls, who
        self.session = requests.Session()
        self.session.headers.update(bearer(raw_key))

    def status_of(self, service: str, path: str) -> int:
        """The status a GET answers (for waiting until a key is known everywhere)."""
        return self.session.get(f"{self.urls[service]}{path}", timeout=10).status_code

    def call(
        self,
        method: str,
        service: str,
        path: str,
        expect: int | tuple[int, ...] = (200, 201),
        **kwargs: Any,
    ) -> Any:
        """The JSON answer (or the response, when it is not JSON); `StepFailed` on another status."""
        response = self.session.request(method, f"{self.urls[service]}{path}", timeout=30, **kwargs)
        expected = (expect,) if isinstance(expect, int) else expect
        if response.status_code not in expected:
            raise StepFailed(
                f"{self.who}: {method} {service}{path} -> {response.status_code}: "
                f"{response.text[:1000]}"
            )
        return (
            response.json()
            if response.content and "json" in response.headers.get("Content-Type", "")
            else response
        )

    def get(self, service: str, path: str, **kwargs: Any) -> Any:
        return self.call("GET", service, path, **kwargs)

    def post(self, service: str, path: str, body: object, **kwargs: Any) -> Any:
        return self.call("POST", service, path, json=body, **kwargs)

    def put(self, service: str, path: str, body: object, **kwargs: Any) -> Any:
        return self.call("PUT", service, path, json=body, **kwargs)


def bearer(raw_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw_key}"}
