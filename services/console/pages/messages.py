"""Page 12: the delivery log. Every message the clinic's notifications planned, newest first,
filtered by kind, channel, status, the days it was planned and the patient; each says in words
what became of it (why it was not sent, why and until when it waits, why it failed).

API calls: the person (usually kept), one page of the log, the names of its page's patients.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from services.console.api_clients import ApiError
from services.console.domain.messages import (
    CHANNELS,
    FILTER_FIELDS,
    KINDS,
    STATUSES,
    filters_from,
    on_form,
    patient_ids,
    row,
)
from services.console.domain.paging import asked_page, page_count
from services.console.domain.places import zone_for
from services.console.web.forms import field_errors
from services.console.web.signed_in import apis, person, signed_in

blp = Blueprint("messages", __name__)
PAGE_SIZE = 20
"""Intake names at most 20 patients in one call: one page's patients in one call."""


@blp.get("/messages")
@signed_in
def log():
    g.section = "messages"
    places = person().places
    zone = zone_for(places, None)
    filters = filters_from(request.args, zone)
    page = asked_page(request.args.get("page"))
    found = {"items": [], "total": 0}
    errors = filters.errors
    if not errors:
        try:
            found = apis().notifications.deliveries(**filters.query, page=page, page_size=PAGE_SIZE)
        except ApiError as error:
            if error.kind != "invalid":
                raise
            errors = field_errors(error, FILTER_FIELDS, on_form)
    ids = patient_ids(found["items"])
    names = {
        p["patient_id"]: " ".join(n for n in (p.get("given_name"), p.get("family_name")) if n)
        for p in apis().intake.patients(ids)
    }
    rows = [row(item, places, names) for item in found["items"]]
    total = found["total"]
    asked = {k: v for k, v in filters.values.items() if v}
    return render_template(
        "messages.html",
        rows=rows,
        total=total,
        page=page,
        pages=page_count(total, PAGE_SIZE),
        values=filters.values,
        asked=asked,
        errors=errors,
        kinds=KINDS,
        channels=CHANNELS,
        statuses=STATUSES,
        zone=zone.key,
    ), (422 if errors else 200)
