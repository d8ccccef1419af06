"""The console's pages: one blueprint per page (or per group of pages), each thin: what was
asked or typed in, calls to the APIs, a template out. See docs/conventions.md, "The console"."""

from services.console.pages import (
    account_links,
    coming,
    health,
    inbox,
    patient_chart,
    patient_intake,
    patient_search,
    referral,
    sign_in,
)

BLUEPRINTS = [health.blp, sign_in.blp, account_links.blp, inbox.blp, referral.blp, coming.blp]
BLUEPRINTS += [patient_search.blp, patient_chart.blp, patient_intake.blp]
