"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from shared import broker, metrics

blp = Blueprint(
    "ops", __name__, description="Liveness, readiness and metrics (for ops; no authentication)"
)


class LivenessSchema(Schema):
    status = fields.String(metadata={"example": "ok"})
    service = fields.String()


class ReadinessSchema(Schema):
    status = fields.String(
        metadata={
            "description": "ready, degraded (RabbitMQ down: work is accepted and held in the outbox) or unavailable"
        }
    )
    service = fields.String()
    checks = fields.Dict(keys=fields.String(), values=fields.String())


@blp.route("/healthz")
class Liveness(MethodView):
    @blp.doc(security=[])
    @blp.response(200, LivenessSchema)
    def get(self):
        """The process is alive (does not check dependencies)."""
        return {"status": "ok", "service": current_app.config["SETTINGS"].service}


def _check(fn) -> str:
    try:
        fn()
        return "ok"
    except Exception as error:  # any failure means "not reachable"; the reason is reported
        return f"unreachable: {type(error).__name__}: {error}"[:300]


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.doc(security=[])
    @blp.response(200, ReadinessSchema)
    @blp.alt_response(
        503,
        schema=ReadinessSchema,
        description="MongoDB or RabbitMQ is unreachable; `checks` names which",
    )
    def get(self):
        """MongoDB and RabbitMQ are reachable; 503 names what is not."""
        settings = current_app.config["SETTINGS"]
        checks = {
            "mongodb": _check(current_app.extensions["mongo"].ping),
            "rabbitmq": _check(lambda: broker.ping(settings)),
        }
        if all(v == "ok" for v in checks.values()):
            return {"status": "ready", "service": settings.service, "checks": checks}
        status = "degraded" if checks["mongodb"] == "ok" else "unavailable"
        return {"status": status, "service": settings.service, "checks": checks}, 503


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.doc(security=[])
    @blp.response(200, content_type="text/plain")
    def get(self):
        """Prometheus metrics (text exposition format)."""
        body, content_type = metrics.render()
        return current_app.response_class(body, content_type=content_type)
