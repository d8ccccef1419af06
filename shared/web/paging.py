"""Paging for list endpoints: the query arguments every list takes and the page it answers.

class PlanQuerySchema(PageQuerySchema):        # filters beside page and page_size
    status = fields.String(...)

@blp.arguments(PlanQuerySchema, location="query")
@blp.response(200, page_schema(PlanSchema))
def get(self, args):
    request, filters = page_request(args)
    return usecases.plans.page(deps(), principal(), filters, request)   # a shared.paging.Page
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from flask import current_app
from marshmallow import Schema, fields, validate

from shared.paging import DEFAULT_PAGE_SIZE, MAX_PAGE, PageRequest
from shared.schemas import Strict


class PageQuerySchema(Strict):
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "The page, from 1"},
    )
    page_size = fields.Integer(
        load_default=DEFAULT_PAGE_SIZE,
        validate=validate.Range(min=1),
        metadata={
            "description": "Items per page (default 50); larger values are capped at the "
            "server's maximum (MAX_PAGE_SIZE, 100 by default): the answer's `page_size` says "
            "which size was used"
        },
    )


def page_request(args: Mapping[str, Any]) -> tuple[PageRequest, dict[str, Any]]:
    """The (capped) page asked for, and the other arguments (the filters)."""
    filters = {k: v for k, v in args.items() if k not in ("page", "page_size")}
    request = PageRequest(args.get("page", 1), args.get("page_size", DEFAULT_PAGE_SIZE))
    return request.capped(current_app.config["SETTINGS"].max_page_size), filters


class _PageSchema(Schema):
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True, metadata={"description": "The size used"})
    total = fields.Integer(required=True, metadata={"description": "Matches in all pages"})


@functools.cache
def page_schema(item: type[Schema]) -> type[Schema]:
    """`<Resource>PageSchema`: `{"items": [<Resource>], "page", "page_size", "total"}`.

    It dumps a `shared.paging.Page` (or any object or dict with those four fields).
    """
    name = item.__name__.removesuffix("Schema") + "PageSchema"
    items = fields.List(fields.Nested(item), required=True)
    return type(name, (_PageSchema,), {"items": items, "__module__": item.__module__})
