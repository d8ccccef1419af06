"""Liveness, readiness (whether the three APIs answer) and metrics, for ops; no sign-in."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from services.console.web.signed_in import deps
from shared import metrics

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def liveness():
    return jsonify(status="ok", service="console")


@blp.get("/readyz")
def readiness():
    """Ready when intake, planning and notifications each answer their /healthz."""
    apis = deps().apis()
    checks = {
        "intake": apis.intake.http.answers(),
        "planning": apis.planning.http.answers(),
        "notifications": apis.notifications.answers(),
    }
    named = {name: "ok" if up else "unreachable" for name, up in checks.items()}
    ready = all(checks.values())
    body = {"status": "ready" if ready else "unavailable", "service": "console", "checks": named}
    return jsonify(body), 200 if ready else 503


@blp.get("/metrics")
def prometheus():
    body, content_type = metrics.render()
    return current_app.response_class(body, content_type=content_type)
