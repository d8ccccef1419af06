"""The console's pages: one blueprint per page (or per group of pages), each thin: what was
asked or typed in, calls to the APIs, a template out. See docs/conventions.md, "The console"."""

from services.console.pages import (
    account_links,
    calendar,
    coming,
    discharge,
    health,
    inbox,
    messages,
    outcomes,
    patient_chart,
    patient_intake,
    patient_search,
    plans,
    referral,
    session,
    settings_clinic,
    settings_messages,
    settings_staff,
    sign_in,
)

BLUEPRINTS = [health.blp, sign_in.blp, account_links.blp, inbox.blp, referral.blp, coming.blp]
BLUEPRINTS += [patient_search.blp, patient_chart.blp, patient_intake.blp]
BLUEPRINTS += [calendar.blp, session.blp]
BLUEPRINTS += [plans.blp, outcomes.blp, discharge.blp]
BLUEPRINTS += [messages.blp, settings_staff.blp, settings_clinic.blp, settings_messages.blp]
