"""The intake HTTP API: thin views over the use cases (schema in, use case, schema out)."""

from services.intake.api import admin, auth, intakes, patients, referrals, users

BLUEPRINTS = [admin.blp, users.blp, auth.blp, referrals.blp, patients.blp, intakes.blp]
