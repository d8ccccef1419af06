"""HTTP entrypoints: one blueprint per resource, thin views (schema in, use case, schema out)."""

from .clinic_config import blp as config_blp
from .deliveries import blp as deliveries_blp
from .preferences import blp as preferences_blp
from .sms import blp as sms_blp
from .templates import blp as templates_blp
from .unsubscribe import blp as unsubscribe_blp

BLUEPRINTS = (
    deliveries_blp,
    preferences_blp,
    config_blp,
    templates_blp,
    unsubscribe_blp,
    sms_blp,
)
