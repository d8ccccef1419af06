"""Calls to planning's HTTP API in tests, in process (Flask test client) or over HTTP (requests),
through one small interface."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from testkit.staff import bearer
from testkit.staff_forms import session_notes


@dataclass
class Reply:
    status: int
    body: Any


class InProcess:
    def __init__(self, client) -> None:
        self.client = client

    def call(self, method: str, path: str, key: str, json: Any = None, **query: Any) -> Reply:
        response = self.client.open(
            path, method=method, json=json, headers=bearer(key), query_string=query or None
        )
        return Reply(response.status_code, response.get_json(silent=True))


class OverHttp:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, key: str, json: Any = None, **query: Any) -> Reply:
        response = requests.request(
            method, self.base_url + path, json=json, headers=bearer(key), params=query, timeout=15
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        return Reply(response.status_code, body)


class PlanningApi:
    """The few calls the tests make, named after what they do."""

    def __init__(self, transport: InProcess | OverHttp) -> None:
        self.transport = transport

    def plan(self, key: str, plan_id: str) -> Reply:
        return self.transport.call("GET", f"/plans/{plan_id}", key)

    def plans(self, key: str, **query: Any) -> Reply:
        return self.transport.call("GET", "/plans", key, **query)

    def edit(self, key: str, plan_id: str, **changes: Any) -> Reply:
        return self.transport.call("PATCH", f"/plans/{plan_id}", key, json=changes)

    def approve(self, key: str, plan_id: str, version: int = 1) -> Reply:
        return self.transport.call(
            "POST", f"/plans/{plan_id}/approve", key, json={"version": version}
        )

    def schedule(
        self, key: str, plan_id: str, local: datetime | str, therapist: str = "th-1", **more: Any
    ) -> Reply:
        when = local if isinstance(local, str) else local.strftime("%Y-%m-%dT%H:%M")
        body = {"therapist_id": therapist, "starts_at_local": when, **more}
        return self.transport.call("POST", f"/plans/{plan_id}/sessions", key, json=body)

    def complete_session(
        self, key: str, plan_id: str, session_id: str, measurements: list[dict], **more: Any
    ) -> Reply:
        body = session_notes(measurements, **more)
        return self.transport.call(
            "POST", f"/plans/{plan_id}/sessions/{session_id}/complete", key, json=body
        )

    def session_action(
        self, key: str, plan_id: str, session_id: str, action: str, json: Any = None
    ) -> Reply:
        return self.transport.call(
            "POST", f"/plans/{plan_id}/sessions/{session_id}/{action}", key, json=json
        )

    def progress(self, key: str, plan_id: str) -> Reply:
        return self.transport.call("GET", f"/plans/{plan_id}/progress", key)
