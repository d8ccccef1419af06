"""The planning HTTP API (flask-smorest blueprints, one per resource)."""

from services.planning.api import clinic_settings, patient_plans, plans, sessions

BLUEPRINTS = (plans.blp, sessions.blp, clinic_settings.blp, patient_plans.blp)
