"""A clinic's template overrides, checked by rendering them from a sample event before they are
stored (`domain.template_check`), so an override cannot fail or leak at send time."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from shared.errors import Invalid, NotFound
from shared.paging import Page, PageRequest
from shared.web.auth import Principal

from ..domain.template_check import OverrideRefused, check_override, parse_name
from ..domain.templates import LANGUAGE_TAG, built_in_names, built_in_source

if TYPE_CHECKING:
    from ..bootstrap import Deps

NO_OVERRIDE = "no override for this template and language"


def list_overrides(deps: Deps, principal: Principal, request: PageRequest) -> Page[dict[str, Any]]:
    """This clinic's overrides, by language and file (templates not listed use the built-in text)."""
    return deps.overrides.page(principal.tenant_id, request).map(_view)


def get_override(deps: Deps, principal: Principal, language: str, name: str) -> dict[str, Any]:
    _check_path(language, name)
    if (row := deps.overrides.get(principal.tenant_id, language, f"{name}.j2")) is None:
        raise NotFound(NO_OVERRIDE)
    return _view(row)


def replace_override(
    deps: Deps, principal: Principal, language: str, name: str, source: str
) -> dict[str, Any]:
    """Store an override, unless it does not render into a sendable, safe message, or a patient
    template names a field patient messages cannot show (`Invalid`, naming it under `source`)."""
    _check_path(language, name)
    try:
        check_override(principal.tenant_id, language, name, source)
    except OverrideRefused as refused:
        raise Invalid({"source": [str(refused)]}, message=str(refused)) from None
    stored = deps.overrides.put(principal.tenant_id, language, f"{name}.j2", source, deps.clock())
    return _view(stored)


def preview_override(
    deps: Deps, principal: Principal, language: str, name: str, source: str
) -> dict[str, Any]:
    """The message a draft override renders from its template's sample event (nothing is
    stored); `Invalid` under `source` as `replace_override` would refuse it."""
    _check_path(language, name)
    try:
        message = check_override(principal.tenant_id, language, name, source)
    except OverrideRefused as refused:
        raise Invalid({"source": [str(refused)]}, message=str(refused)) from None
    return {"language": language, "name": name, **asdict(message)}


def get_built_in(deps: Deps, principal: Principal, language: str, name: str) -> dict[str, Any]:
    """The built-in text of a template for this language (or the one it falls back to)."""
    _check_path(language, name)
    if (found := built_in_source(language, f"{name}.j2")) is None:
        raise NotFound("no built-in text for this template")
    used, source = found
    return {"language": used, "name": name, "source": source}


def list_built_in(deps: Deps, principal: Principal, request: PageRequest) -> Page[dict[str, Any]]:
    """The built-in templates an admin may override, by name, with their languages."""
    names = [n for n in built_in_names() if _overridable(n["name"])]
    return Page.of_list(names, request)


def _overridable(name: str) -> bool:
    try:
        parse_name(name)
    except OverrideRefused:
        return False
    return True


def delete_override(deps: Deps, principal: Principal, language: str, name: str) -> None:
    """Remove the override: the built-in text is used again."""
    _check_path(language, name)
    if not deps.overrides.delete(principal.tenant_id, language, f"{name}.j2"):
        raise NotFound(NO_OVERRIDE)


def _check_path(language: str, name: str) -> None:
    try:
        parse_name(name)
    except OverrideRefused:
        raise NotFound("no such template") from None
    if not re.match(LANGUAGE_TAG, language):
        raise NotFound("no such language")


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "name": row["file"].removesuffix(".j2")}
