"""The unsubscribe link in patient emails: public, its token signed with UNSUBSCRIBE_SECRET."""

from __future__ import annotations

import html

from flask_smorest import Blueprint

from shared.web.views import View, deps

from ..usecases import preferences

blp = Blueprint(
    "unsubscribe", __name__, description="Unsubscribe links in patient emails (public, signed)"
)
PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
    "<body><p>{text}</p>{form}</body></html>"
)
FORM = "<form method=post><button type=submit name=confirm value=1>Unsubscribe</button></form>"


def _page(title: str, text: str, form: str = "") -> tuple[str, int, dict[str, str]]:
    body = PAGE.format(title=html.escape(title), text=html.escape(text), form=form)
    return body, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}


@blp.route("/unsubscribe/<string:token>")
class UnsubscribeLink(View):
    @blp.doc(security=[])
    @blp.response(200, content_type="text/html")
    @blp.alt_response(404, description="Not a link we sent")
    def get(self, token: str):
        """A page asking to confirm (GET changes nothing: mail scanners follow links)."""
        preferences.read_unsubscribe_link(deps(), token)
        return _page("Unsubscribe", "Stop receiving emails from us?", FORM)

    @blp.doc(security=[])
    @blp.response(200, content_type="text/html")
    @blp.alt_response(404, description="Not a link we sent")
    def post(self, token: str):
        """Unsubscribe (the page's button, or RFC 8058 one-click from the mail client)."""
        preferences.unsubscribe(deps(), token)
        return _page("Unsubscribed", "You will not receive emails from us any more.")
