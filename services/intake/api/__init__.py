"""The intake HTTP API: thin views over the use cases (schema in, use case, schema out)."""

from services.intake.api import admin, intakes, patients, referrals

BLUEPRINTS = [admin.blp, referrals.blp, patients.blp, intakes.blp]
