"""The patient's intake form, served by the intake service at `{PUBLIC_BASE_URL}/intake/<token>`."""

from services.intake.web_form.views import blp

__all__ = ["blp"]
