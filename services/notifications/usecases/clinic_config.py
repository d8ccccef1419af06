"""The clinic's notification settings: quiet hours, reminders, staff inboxes, partner webhooks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shared.errors import Invalid
from shared.web.auth import Principal

from ..repository.tenant_configs import tenant_settings

if TYPE_CHECKING:
    from ..bootstrap import Deps


def get_config(deps: Deps, principal: Principal) -> dict[str, Any]:
    """The stored settings (absent fields take the documented defaults)."""
    return config_view(deps.tenant_configs.get(principal.tenant_id))


def replace_config(deps: Deps, principal: Principal, config: Mapping[str, Any]) -> dict[str, Any]:
    """Replace the settings; a webhook without `secret` keeps its stored secret. Each field is
    checked against the rules first (`Invalid` names the fields that break one)."""
    if problems := rule_problems(config):
        raise Invalid(problems)
    return config_view(deps.tenant_configs.put(principal.tenant_id, config, deps.clock()))


def rule_problems(config: Mapping[str, Any]) -> dict[str, list[str]]:
    """{field: [problem]} for each field the rules cannot use (e.g. an unknown time zone)."""
    problems = {}
    for name, value in config.items():
        try:
            tenant_settings("check", {name: value})
        except (ValueError, KeyError, TypeError) as error:
            problems[name] = [str(error)]
    return problems


def config_view(document: Mapping[str, Any] | None) -> dict[str, Any]:
    """The stored settings as shown: webhook secrets replaced by whether one is set."""
    view = {k: v for k, v in (document or {}).items() if k not in ("_id", "tenant_id")}
    hooks = view.get("partner_webhooks") or {}
    view["partner_webhooks"] = {
        partner: {"url": hook["url"], "secret_set": bool(hook.get("secret"))}
        for partner, hook in hooks.items()
    }
    return view
