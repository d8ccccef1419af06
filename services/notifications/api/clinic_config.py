"""The clinic's notification settings: quiet hours, reminders, staff inboxes, partner webhooks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from shared.web.auth import current_principal, requires

from ..repository.tenant_configs import TenantConfigs
from .context import db, now
from .schemas import TenantConfigSchema

blp = Blueprint("config", __name__, description="The clinic's notification settings (admins)")


def config_view(document: Mapping[str, Any] | None) -> dict[str, Any]:
    """The stored settings as shown: webhook secrets replaced by whether one is set."""
    view = {k: v for k, v in (document or {}).items() if k not in ("_id", "tenant_id")}
    hooks = view.get("partner_webhooks") or {}
    view["partner_webhooks"] = {
        partner: {"url": hook["url"], "secret_set": bool(hook.get("secret"))}
        for partner, hook in hooks.items()
    }
    return view


@blp.route("/config")
class ClinicConfig(MethodView):
    @requires("admin")
    @blp.response(200, TenantConfigSchema)
    def get(self):
        """The stored settings (absent fields take the documented defaults)."""
        return config_view(TenantConfigs(db()).get(current_principal().tenant_id))

    @requires("admin")
    @blp.arguments(TenantConfigSchema)
    @blp.response(200, TenantConfigSchema)
    def put(self, config: dict[str, Any]):
        """Replace the settings. A webhook without `secret` keeps its stored secret."""
        stored = TenantConfigs(db()).put(current_principal().tenant_id, config, now())
        return config_view(stored)
