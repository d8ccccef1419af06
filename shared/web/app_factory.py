"""Builds a service's Flask app: settings, logging, ids, one error shape, health, OpenAPI."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request
from flask_smorest import Blueprint
from pymongo.database import Database
from werkzeug.exceptions import RequestEntityTooLarge

from shared.config import ConfigError, Settings
from shared.logs import configure_logging
from shared.mongo import Mongo
from shared.token_keys import KeyFileError, load_public_keys
from shared.tokens import TokenVerifier
from shared.web import health
from shared.web.auth import SECURITY_SCHEME, TOKEN_KEYS, TOKEN_SECURITY_SCHEME
from shared.web.errors import ClinicApi
from shared.web.request_context import init_request_context

OPENAPI_JSON_PATH = "/openapi.json"
log = logging.getLogger("http")


def build_app(
    settings: Settings,
    *,
    title: str,
    description: str,
    blueprints: Iterable[Blueprint] = (),
    extensions: dict[str, Any] | None = None,
    prepare_db: Callable[[Database], None] | None = None,
) -> Flask:
    """`prepare_db` (e.g. creating indexes) runs once per process, before its first request."""
    configure_logging(settings.service, settings.log_level)
    app = Flask(settings.service)
    app.config.update(
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE=title,
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH=OPENAPI_JSON_PATH.lstrip("/"),
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        API_SPEC_OPTIONS={
            "info": {"description": description},
            "security": [{"bearerAuth": []}, {"staffToken": []}],
            "components": {
                "securitySchemes": {
                    "bearerAuth": SECURITY_SCHEME,
                    "staffToken": TOKEN_SECURITY_SCHEME,
                }
            },
        },
    )
    app.extensions["mongo"] = Mongo(settings)
    app.extensions[TOKEN_KEYS] = token_verifier(settings)
    app.extensions.update(extensions or {})
    init_request_context(app)
    _refuse_oversized(app)
    if prepare_db is not None:
        _prepare_once(app, prepare_db)
    api = ClinicApi(
        app
    )  # registers one error shape for every HTTP error: {code, status, message, errors}
    api.register_blueprint(health.blp)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    app.extensions["api"] = api
    return app


def token_verifier(settings: Settings) -> TokenVerifier:
    """The verifier of staff access tokens, with the public keys (none: only API keys work)."""
    if not settings.auth_public_pems:
        log.warning("AUTH_PUBLIC_PEMS is not set: staff access tokens are refused here")
        return TokenVerifier({})
    try:
        return TokenVerifier(load_public_keys(settings.auth_public_pems))
    except KeyFileError as error:
        raise ConfigError(f"invalid configuration: AUTH_PUBLIC_PEMS: {error}") from None


def _refuse_oversized(app: Flask) -> None:
    """A body announced larger than `MAX_BODY_BYTES` is refused (413) before anything else, even
    before the caller is known, so an oversized request costs no reading and no lookup (a body
    sent without a length is cut off at the same size when it is read)."""

    @app.before_request
    def _too_large() -> None:
        length = request.content_length
        if length is not None and length > app.config["MAX_CONTENT_LENGTH"]:
            raise RequestEntityTooLarge()


def _prepare_once(app: Flask, prepare_db: Callable[[Database], None]) -> None:
    lock = threading.Lock()
    done = threading.Event()

    @app.before_request
    def _prepare() -> None:
        if done.is_set() or request.blueprint in (health.blp.name, "api-docs"):
            return  # liveness, readiness and the API docs answer while MongoDB is down
        with lock:
            if not done.is_set():
                prepare_db(app.extensions["mongo"].db)
                done.set()
