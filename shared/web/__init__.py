"""App-factory pieces every service's HTTP API uses."""

from shared.web.app_factory import build_app

__all__ = ["build_app"]
