"""Per-clinic template overrides, checked by rendering them from a sample event first."""

from __future__ import annotations

import re
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from shared.web.auth import current_principal, requires

from ..domain.template_check import OverrideRefused, check_override, parse_name
from ..repository.template_overrides import TemplateOverrides
from .context import db, now
from .schemas import TemplateOverrideInSchema, TemplateOverrideSchema

blp = Blueprint(
    "templates",
    __name__,
    description=(
        "Template overrides per clinic and language (Jinja2, sandboxed). Names are "
        "<template>.<channel> or <template>.email.html, e.g. patient_welcome.sms."
    ),
)
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")


def _store() -> TemplateOverrides:
    return TemplateOverrides(db().template_overrides)


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "name": row["file"].removesuffix(".j2")}


def _checked_path(language: str, name: str) -> None:
    try:
        parse_name(name)
    except OverrideRefused:
        abort(404, message="no such template")
    if not LANGUAGE.match(language):
        abort(404, message="no such language")


@blp.route("/templates")
class TemplateOverridesList(MethodView):
    @requires("admin")
    @blp.response(200, TemplateOverrideSchema(many=True))
    def get(self):
        """This clinic's overrides (templates not listed use the built-in text)."""
        return [_view(row) for row in _store().list(current_principal().tenant_id)]


@blp.route("/templates/<string:language>/<string:name>")
class TemplateOverride(MethodView):
    @requires("admin")
    @blp.response(200, TemplateOverrideSchema)
    @blp.alt_response(404, description="No override for this template and language")
    def get(self, language: str, name: str):
        _checked_path(language, name)
        row = _store().get(current_principal().tenant_id, language, f"{name}.j2")
        if row is None:
            abort(404, message="no override for this template and language")
        assert row is not None  # abort() raised
        return _view(row)

    @requires("admin")
    @blp.arguments(TemplateOverrideInSchema)
    @blp.response(200, TemplateOverrideSchema)
    @blp.alt_response(404, description="No such template")
    def put(self, body: dict[str, str], language: str, name: str):
        """Store an override; refused (422, naming the problem under `source`) if it does not
        render into a sendable, safe message, or if a patient template names a field patient
        messages cannot show (only names, times, places and links: no clinical field)."""
        _checked_path(language, name)
        tenant_id = current_principal().tenant_id
        try:
            check_override(tenant_id, language, name, body["source"])
        except OverrideRefused as refused:
            abort(422, message=str(refused), errors={"json": {"source": [str(refused)]}})
        return _view(_store().put(tenant_id, language, f"{name}.j2", body["source"], now()))

    @requires("admin")
    @blp.response(204)
    @blp.alt_response(404, description="No override for this template and language")
    def delete(self, language: str, name: str):
        """Remove the override: the built-in text is used again."""
        _checked_path(language, name)
        if not _store().delete(current_principal().tenant_id, language, f"{name}.j2"):
            abort(404, message="no override for this template and language")
