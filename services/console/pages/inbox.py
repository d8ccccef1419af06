"""Page 2: the referral inbox. Tabs (new, needs review, accepted, cancelled, rejected), filters
by location and partner, how long each referral has waited, one click to it.

API calls: the person (`/auth/me`, usually kept), one page of referrals, the clinic's partners.
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from services.console.domain.inbox import DEFAULT_TAB, TABS, query_for, row
from services.console.domain.paging import asked_page, page_count
from services.console.web.signed_in import apis, deps, person, signed_in

blp = Blueprint("inbox", __name__)
PAGE_SIZE = 25


@blp.get("/")
def home():
    return redirect(url_for("inbox.inbox"))


@blp.get("/referrals")
@signed_in
def inbox():
    g.section = "referrals"
    tab = request.args.get("tab", DEFAULT_TAB)
    tab = tab if tab in TABS else DEFAULT_TAB
    location = request.args.get("location") or None
    partner = request.args.get("partner") or None
    page_number = asked_page(request.args.get("page"))
    now = deps().clock()
    intake = apis().intake
    found = intake.referrals(
        **query_for(tab, now),
        location_id=location,
        partner_id=partner,
        page=page_number,
        page_size=PAGE_SIZE,
    )
    partners = {p["partner_id"]: p.get("name") or p["partner_id"] for p in intake.partners()}
    places = person().places
    rows = [row(item, places, partners, now) for item in found["items"]]
    pages = page_count(found["total"], PAGE_SIZE)
    return render_template(
        "inbox.html",
        tabs=TABS,
        tab=tab,
        rows=rows,
        total=found["total"],
        page=page_number,
        pages=pages,
        location=location,
        partner=partner,
        places=places,
        partners=partners,
    )
