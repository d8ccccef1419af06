"""The staff console: `gunicorn -c python:shared.gunicorn_conf 'services.console.app:create_app()'`.

Server-rendered pages (Jinja2, autoescaped everywhere) over the three APIs, as the signed-in
person. Not a flask-smorest API: it has no OpenAPI document, but the same logging, request ids,
settings loader and health endpoints as the services (its readiness: whether the APIs answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from services.console.bootstrap import bootstrap
from services.console.pages import BLUEPRINTS
from services.console.web.cookie_session import init_cookie_session
from services.console.web.csrf import init_csrf
from services.console.web.errors import init_error_pages
from services.console.web.layout import init_layout
from services.console.web.security_headers import init_security_headers
from services.console.web.server_timing import init_server_timing
from shared.config import load_settings
from shared.logs import configure_logging
from shared.web.request_context import init_request_context

HERE = Path(__file__).parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings("console", overrides=config)
    own = settings.own
    configure_logging(settings.service, settings.log_level)
    app = Flask(
        "console",
        template_folder=str(HERE / "templates"),
        static_folder=str(HERE / "static"),
        static_url_path="/static",
    )
    app.config.update(SETTINGS=settings, MAX_CONTENT_LENGTH=settings.max_body_bytes)
    app.jinja_env.autoescape = True  # every template, whatever its name
    app.extensions["deps"] = bootstrap(settings)
    init_request_context(app)
    init_server_timing(app)
    init_cookie_session(app, own.console_secret, secure=own.console_cookie_secure)
    init_csrf(app, own.console_public_url)
    init_security_headers(app, https=own.console_public_url.startswith("https://"))
    init_layout(app)
    init_error_pages(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app
