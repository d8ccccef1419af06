"""HTTP entrypoints: thin MethodViews (schema in, store call, schema out)."""

from .clinic_config import blp as config_blp
from .deliveries import blp as deliveries_blp
from .preferences import blp as preferences_blp
from .templates import blp as templates_blp
from .unsubscribe import sms_blp, unsubscribe_blp

BLUEPRINTS = (
    deliveries_blp,
    preferences_blp,
    config_blp,
    templates_blp,
    unsubscribe_blp,
    sms_blp,
)
