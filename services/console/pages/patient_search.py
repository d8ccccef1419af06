"""Page 4: patient search. By name (each word the start of a name, case and accents ignored),
date of birth, MRN or phone, every filter typed narrowing the others; pages of 25 by family name;
one click to the chart.

API calls: the person (usually kept), one page of patients.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from services.console.api_clients import ApiError
from services.console.domain.paging import asked_page, page_count
from services.console.domain.patient_search import (
    FILTER_LABELS,
    FILTERS,
    row,
    typed_filters,
)
from services.console.web.forms import field_errors
from services.console.web.signed_in import apis, person, signed_in

blp = Blueprint("patient_search", __name__)
PAGE_SIZE = 25


@blp.get("/patients")
@signed_in
def search():
    g.section = "patients"
    typed = typed_filters(request.args)
    page_number = asked_page(request.args.get("page"))
    try:
        found = apis().intake.search_patients(**typed, page=page_number, page_size=PAGE_SIZE)
    except ApiError as error:
        if error.kind != "invalid":
            raise
        errors = field_errors(error, FILTERS)
        return _show(typed, errors, [], 0, page_number, 422)
    rows = [row(p, person().places) for p in found["items"]]
    return _show(typed, {}, rows, found["total"], page_number, 200)


def _show(typed, errors, rows, total, page_number, status):
    body = render_template(
        "patients/search.html",
        typed=typed,
        labels=FILTER_LABELS,
        errors=errors,
        rows=rows,
        total=total,
        page=page_number,
        pages=page_count(total, PAGE_SIZE),
        searched=bool(typed),
    )
    return body, status
