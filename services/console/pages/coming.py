"""The page every navigation entry not built yet leads to: it says so, plainly."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template

from services.console.domain.offers import nav_item
from services.console.web.signed_in import person, signed_in

blp = Blueprint("coming", __name__)


@blp.get("/coming/<key>")
@signed_in
def page(key: str):
    item = nav_item(key)
    if item is None or person().role not in item.roles:
        abort(404)
    g.section = key
    return render_template("coming.html", item=item)
