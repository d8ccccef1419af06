"""Per-clinic template overrides, checked by rendering them from a sample event first."""

from __future__ import annotations

from flask_smorest import Blueprint

from shared.web.auth import requires
from shared.web.paging import page_request, page_schema
from shared.web.views import View, deps, principal

from ..usecases import templates
from .schemas import (
    TemplateBuiltInSchema,
    TemplateNameSchema,
    TemplateOverrideQuerySchema,
    TemplateOverrideReplaceSchema,
    TemplateOverrideSchema,
    TemplatePreviewSchema,
)

blp = Blueprint(
    "templates",
    __name__,
    description=(
        "Template overrides per clinic and language (Jinja2, sandboxed). Names are "
        "<template>.<channel> or <template>.email.html, e.g. patient_welcome.sms."
    ),
)


@blp.route("/templates")
class TemplateOverrideCollection(View):
    @requires("admin")
    @blp.arguments(TemplateOverrideQuerySchema, location="query")
    @blp.response(200, page_schema(TemplateOverrideSchema))
    def get(self, args: dict[str, int]):
        """This clinic's overrides, by language and name (templates not listed use the
        built-in text)."""
        request, _ = page_request(args)
        return templates.list_overrides(deps(), principal(), request)


@blp.route("/templates/built-in")
class TemplateNames(View):
    @requires("admin")
    @blp.arguments(TemplateOverrideQuerySchema, location="query")
    @blp.response(200, page_schema(TemplateNameSchema))
    def get(self, args: dict[str, int]):
        """The built-in templates a clinic may override, by name, with their languages."""
        request, _ = page_request(args)
        return templates.list_built_in(deps(), principal(), request)


@blp.route("/templates/<string:language>/<string:name>")
class TemplateOverride(View):
    @requires("admin")
    @blp.response(200, TemplateOverrideSchema)
    @blp.alt_response(404, description="No override for this template and language")
    def get(self, language: str, name: str):
        return templates.get_override(deps(), principal(), language, name)

    @requires("admin")
    @blp.arguments(TemplateOverrideReplaceSchema)
    @blp.response(200, TemplateOverrideSchema)
    @blp.alt_response(404, description="No such template")
    def put(self, body: dict[str, str], language: str, name: str):
        """Store an override; refused (422, naming the problem under `source`) if it does not
        render into a sendable, safe message, or if a patient template names a field patient
        messages cannot show (only names, times, places and links: no clinical field)."""
        return templates.replace_override(deps(), principal(), language, name, body["source"])

    @requires("admin")
    @blp.response(204)
    @blp.alt_response(404, description="No override for this template and language")
    def delete(self, language: str, name: str):
        """Remove the override: the built-in text is used again."""
        templates.delete_override(deps(), principal(), language, name)


@blp.route("/templates/<string:language>/<string:name>/preview")
class TemplatePreview(View):
    @requires("admin")
    @blp.arguments(TemplateOverrideReplaceSchema)
    @blp.response(200, TemplatePreviewSchema)
    @blp.alt_response(404, description="No such template")
    def post(self, body: dict[str, str], language: str, name: str):
        """The message a draft override renders from the template's sample event (sample
        names, times and places; nothing is stored); 422 under `source` as the PUT would."""
        return templates.preview_override(deps(), principal(), language, name, body["source"])


@blp.route("/templates/<string:language>/<string:name>/built-in")
class TemplateBuiltIn(View):
    @requires("admin")
    @blp.response(200, TemplateBuiltInSchema)
    @blp.alt_response(404, description="No such template")
    def get(self, language: str, name: str):
        """The built-in text of the template (for the language, else the one it falls back
        to): what an override starts from."""
        return templates.get_built_in(deps(), principal(), language, name)
