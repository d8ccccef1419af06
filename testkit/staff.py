"""HTTP as clinic staff: a bearer key on the three APIs."""

from __future__ import annotations

import requests

from testkit.stack import LocalStack


class StaffClient:
    """HTTP as clinic staff: a bearer key and the three APIs."""

    def __init__(self, stack: LocalStack, raw_key: str) -> None:
        self.stack = stack
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {raw_key}"

    def call(
        self,
        method: str,
        service: str,
        path: str,
        expect: int | tuple[int, ...] = (200, 201),
        **kwargs,
    ):
        response = self.session.request(
            method, f"{self.stack.url(service)}{path}", timeout=30, **kwargs
        )
        expected = (expect,) if isinstance(expect, int) else expect
        assert response.status_code in expected, (
            f"{method} {service}{path} -> {response.status_code}: {response.text[:1000]}"
        )
        return (
            response.json()
            if response.content and "json" in response.headers.get("Content-Type", "")
            else response
        )

    def get(self, service: str, path: str, **kwargs):
        return self.call("GET", service, path, **kwargs)

    def post(self, service: str, path: str, body: object, **kwargs):
        return self.call("POST", service, path, json=body, **kwargs)

    def put(self, service: str, path: str, body: object, **kwargs):
        return self.call("PUT", service, path, json=body, **kwargs)


def bearer(raw_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw_key}"}
