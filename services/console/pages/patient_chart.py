"""Page 5: the patient's chart. Demographics, consent per channel, each intake with its
screening outcome and reasons (precautions stand out), the referrals, plans with their sessions,
notes and outcome measures (as the role may read them), and the messages sent.

API calls: the person (usually kept), intake's patient summary, planning's plans of the patient,
notifications' delivery log for the patient.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, g, render_template

from services.console.domain.patient_chart import chart as chart_of
from services.console.domain.precautions import Precautions, precautions_of
from services.console.web.signed_in import apis, person, signed_in

blp = Blueprint("patient_chart", __name__)
MESSAGES_SHOWN = 20
"""The latest messages to the patient the chart lists (newest first, with the total)."""


@blp.app_template_filter("precautions")
def precautions_filter(screening: Mapping[str, Any] | None) -> Precautions | None:
    """`{% with precautions = intake.screening|precautions %}{% include "_precautions.html" %}`"""
    return precautions_of(screening)


@blp.get("/patients/<patient_id>")
@signed_in
def chart(patient_id: str):
    g.section = "patients"
    summary = apis().intake.patient_summary(patient_id)
    plans = apis().planning.patient_plans(patient_id)
    messages = apis().notifications.deliveries(
        recipient=f"patient:{patient_id}", page_size=MESSAGES_SHOWN
    )
    return render_template(
        "patients/chart.html", c=chart_of(summary, plans, messages, person().places)
    )
