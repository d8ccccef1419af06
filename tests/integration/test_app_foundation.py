"""Each service's app: health, readiness against the real stores, one error shape, ids, metrics, OpenAPI."""

import pytest
from openapi_spec_validator import validate

from services.intake.app import create_app as create_intake
from services.intake.domain.intake_link import new_nonce, new_token
from services.notifications.app import create_app as create_notifications
from services.planning.app import create_app as create_planning
from shared.config import load_settings

FACTORIES = {
    "intake": create_intake,
    "planning": create_planning,
    "notifications": create_notifications,
}


@pytest.fixture(params=sorted(FACTORIES))
def client(request, make_settings):
    settings = make_settings(request.param)
    overrides = {k: getattr(settings, k) for k in ("mongo_url", "mongo_db", "amqp_url")}
    app = FACTORIES[request.param](overrides)
    return app.test_client()


def test_liveness_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"


def test_readiness_is_200_when_mongodb_and_rabbitmq_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"] == {"mongodb": "ok", "rabbitmq": "ok"}


def test_readiness_is_503_naming_rabbitmq_when_the_broker_is_unreachable(make_settings):
    settings = make_settings("intake")
    app = create_intake(
        {
            "mongo_url": settings.mongo_url,
            "mongo_db": settings.mongo_db,
            "amqp_url": "amqp://guest:guest@127.0.0.1:1//",
        }
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "degraded"
    assert response.json["checks"]["mongodb"] == "ok"
    assert response.json["checks"]["rabbitmq"].startswith("unreachable")
    assert app.test_client().get("/healthz").status_code == 200


def _without_mongodb(service: str, make_settings):
    """The service's app pointed at a port where no MongoDB answers (a real broker)."""
    return FACTORIES[service](
        {
            "mongo_url": "mongodb://127.0.0.1:1/?directConnection=true",
            "mongo_timeout_ms": 200,
            "amqp_url": make_settings(service).amqp_url,
        }
    )


def test_readiness_names_mongodb_when_it_is_unreachable(make_settings):
    app = _without_mongodb("planning", make_settings)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["checks"]["mongodb"].startswith("unreachable")


def test_an_unknown_path_gets_the_one_json_error_shape(client):
    response = client.get("/no-such-thing")
    assert response.status_code == 404
    assert set(response.json) >= {"code", "status", "message"}
    assert response.json["code"] == 404


WRITE_ROUTES = {
    "intake": ["/referrals", "/intakes"],
    "planning": ["/plans/pln_1/sessions", "/plans/pln_1/approve"],
    "notifications": ["/sms/inbound", "/unsubscribe/some-token"],
}


@pytest.fixture(params=sorted(FACTORIES))
def write_route(request, make_settings):
    """(test client, path) for each real POST route named above."""
    settings = make_settings(request.param)
    overrides = {k: getattr(settings, k) for k in ("mongo_url", "mongo_db", "amqp_url")}
    return FACTORIES[request.param](overrides).test_client(), WRITE_ROUTES[request.param]


def test_an_oversized_body_gets_413_on_real_write_routes_before_anything_else(write_route):
    """Property 16: refused before the caller is even known (no key here: 401 otherwise);
    the services' own tests show the same with a valid key and nothing stored."""
    client, paths = write_route
    too_large = b"x" * (load_settings("intake", environ={}).max_body_bytes + 1)
    for path in paths:
        response = client.post(path, data=too_large, content_type="application/json")
        assert response.status_code == 413, path
        assert (
            response.json["code"] == 413 and response.json["status"] == "Request Entity Too Large"
        )
        assert client.post(path, json={}).status_code != 413  # the route is there (401, 403...)


def test_every_response_carries_a_request_id_and_echoes_a_safe_one(client):
    generated = client.get("/healthz")
    assert len(generated.headers["X-Request-ID"]) == 32
    echoed = client.get(
        "/healthz", headers={"X-Request-ID": "abc-123", "X-Correlation-ID": "corr-9"}
    )
    assert echoed.headers["X-Request-ID"] == "abc-123"
    assert echoed.headers["X-Correlation-ID"] == "corr-9"
    unsafe = client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert unsafe.headers["X-Request-ID"] != "<script>"


def test_metrics_are_served_in_prometheus_text_format(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"http_requests_total" in response.data


def test_the_openapi_document_is_valid_openapi_3(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    validate(response.json)
    assert response.json["openapi"].startswith("3.")
    assert "/readyz" in response.json["paths"]


@pytest.mark.parametrize(
    ("service", "path"),
    [("intake", "/patients"), ("planning", "/plans"), ("notifications", "/deliveries")],
)
def test_a_request_while_mongodb_is_unreachable_answers_503_with_retry_after(
    make_settings, service, path
):
    app = _without_mongodb(service, make_settings)
    response = app.test_client().get(path, headers={"Authorization": "Bearer some-key"})
    assert response.status_code == 503, response.json
    assert response.headers["Retry-After"] == "5"
    assert response.json["status"] == "Service Unavailable"
    assert response.json["message"].startswith("the database is not answering")


def test_the_intake_form_while_mongodb_is_unreachable_is_a_503_page_not_json(make_settings):
    app = _without_mongodb("intake", make_settings)
    token = new_token(app.config["SETTINGS"], "ref_0123456789abcdef0123", new_nonce())
    response = app.test_client().get(f"/intake/{token}")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "text/html" in response.headers["Content-Type"]
    assert "Nothing was lost or sent" in response.get_data(as_text=True)
