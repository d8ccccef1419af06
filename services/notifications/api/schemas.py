"""HTTP schemas of the notifications API (marshmallow; the OpenAPI document comes from them).

Input schemas are `shared.schemas.Strict`: unknown fields are refused (422 naming them), so
`tenant_id`, `status` or `_id` can never be sent in; the tenant always comes from the caller's
API key. Names follow docs/api.md: `<Resource>Schema` answers, `<Resource><Action>Schema`
bodies, `<Resource>QuerySchema` query parameters.
"""

from __future__ import annotations

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from shared.schemas import Strict
from shared.web.paging import PageQuerySchema

from ..domain.deliveries import KINDS, STATUSES
from ..domain.rules import CHANNELS
from ..domain.templates import LANGUAGE_TAG

_ID = validate.Regexp(
    r"^([A-Za-z0-9._:@+-]{1,128}|\*)$", error="must be 1-128 of [A-Za-z0-9._:@+-], or *"
)
_HHMM = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="must be HH:MM (24 h)")
_LANGUAGE = validate.Regexp(LANGUAGE_TAG, error="must be a language tag")
MAX_TEMPLATE_CHARS = 20_000


# --- delivery log ----------------------------------------------------------------------------


class EventRefSchema(Schema):
    source = fields.String()
    id = fields.String()
    type = fields.String()
    time = fields.DateTime()


class DeliverySchema(Schema):
    delivery_id = fields.String(attribute="_id", metadata={"description": "The delivery key"})
    kind = fields.String(
        metadata={
            "description": "message, reminder, failure_notice (a failed delivery staff are told "
            "of) or failure_report (the staff inbox's digest of its notices, one per period)"
        }
    )
    event = fields.Nested(EventRefSchema, metadata={"description": "The event it answers"})
    audience = fields.String()
    recipient = fields.String(attribute="recipient_key")
    channel = fields.String()
    template = fields.String()
    language = fields.String()
    location_id = fields.String(allow_none=True)
    session_id = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(STATUSES)})
    reason = fields.String(allow_none=True, metadata={"description": "Why suppressed or cancelled"})
    attempts = fields.Integer()
    send_at = fields.DateTime(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)
    failed_at = fields.DateTime(allow_none=True)
    provider_answer = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    report = fields.String(
        allow_none=True, metadata={"description": "A failure notice's report (its delivery id)"}
    )
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class DeliveryQuerySchema(PageQuerySchema):
    """Filters beside `page` and `page_size`; the list is newest first."""

    status = fields.String(validate=validate.OneOf(STATUSES))
    recipient = fields.String(
        validate=validate.Length(min=1, max=300),
        metadata={"description": 'A recipient key, e.g. "patient:pat-1" or "staff:loc-1"'},
    )
    event_id = fields.String(validate=validate.Length(min=1, max=256))
    event_type = fields.String(validate=validate.Length(min=1, max=100))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    kind = fields.String(validate=validate.OneOf(KINDS))
    patient_id = fields.String(
        validate=_ID,
        metadata={"description": "The messages sent to one patient (recipient patient:<id>)"},
    )
    created_since = fields.AwareDateTime(
        metadata={"description": "Planned at or after this time (ISO 8601 with an offset)"}
    )
    created_before = fields.AwareDateTime(
        metadata={"description": "Planned before this time (ISO 8601 with an offset)"}
    )

    @validates_schema
    def _one_recipient_and_a_forward_range(self, args: dict, **_kwargs) -> None:
        if "patient_id" in args and "recipient" in args:
            raise ValidationError("give recipient or patient_id, not both", "patient_id")
        since, before = args.get("created_since"), args.get("created_before")
        if since and before and before <= since:
            raise ValidationError("must be after created_since", "created_before")

    @post_load
    def _patient_as_recipient(self, args: dict, **_kwargs) -> dict:
        if patient_id := args.pop("patient_id", None):
            args["recipient"] = f"patient:{patient_id}"
        return args


# --- preferences -----------------------------------------------------------------------------


class ChannelFlagsSchema(Schema):
    email = fields.Boolean()
    sms = fields.Boolean()


class PreferencesSchema(Schema):
    patient_id = fields.String()
    consent = fields.Nested(ChannelFlagsSchema, metadata={"description": "From intake"})
    receive = fields.Nested(
        ChannelFlagsSchema, metadata={"description": "The patient's own choice (opt-in/out)"}
    )
    effective = fields.Nested(
        ChannelFlagsSchema, metadata={"description": "What will be sent: consent and choice"}
    )
    language = fields.String(allow_none=True)


class PreferencesUpdateSchema(Strict):
    email = fields.Boolean(metadata={"description": "false: opt out of email; true: opt back in"})
    sms = fields.Boolean(metadata={"description": "false: opt out of texts; true: opt back in"})


# --- inbound texts ---------------------------------------------------------------------------


class InboundSmsReceiveSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # providers add fields of their own

    from_ = fields.String(data_key="from", required=True, validate=validate.Length(min=3, max=32))
    body = fields.String(required=True, validate=validate.Length(max=2000))
    id = fields.String(validate=validate.Length(max=200))


class InboundSmsSchema(Schema):
    command = fields.String(allow_none=True, metadata={"description": "stop, start or null"})
    contacts = fields.Integer(metadata={"description": "How many contacts it applied to"})


# --- tenant configuration --------------------------------------------------------------------


class QuietHoursSchema(Strict):
    start = fields.String(required=True, validate=_HHMM)
    end = fields.String(required=True, validate=_HHMM)


class ReminderSchema(Strict):
    key = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9-]{1,32}$"))
    channel = fields.String(required=True, validate=validate.OneOf(["email", "sms"]))
    minutes_before = fields.Float(
        required=True, validate=validate.Range(min=0.05, max=60 * 24 * 60)
    )


class PartnerWebhookSchema(Strict):
    url = fields.Url(required=True, schemes={"https", "http"}, validate=validate.Length(max=500))
    secret = fields.String(
        load_only=True,
        validate=validate.Length(min=16, max=200),
        metadata={"description": "Write-only; omit to keep the stored one"},
    )
    secret_set = fields.Boolean(dump_only=True)


class RetrySchema(Strict):
    max_attempts = fields.Integer(validate=validate.Range(min=1, max=20))
    first_delay_s = fields.Float(validate=validate.Range(min=0.1, max=3600))
    max_delay_s = fields.Float(validate=validate.Range(min=0.1, max=86400))
    jitter_s = fields.Float(validate=validate.Range(min=0, max=600))


class ClinicConfigSchema(Strict):
    """The clinic's settings as stored and shown (webhook secrets never shown)."""

    clinic_name = fields.String(validate=validate.Length(min=1, max=120))
    language = fields.String(validate=_LANGUAGE)
    timezone = fields.String(validate=validate.Length(min=1, max=64))
    phone_region = fields.String(validate=validate.Regexp(r"^[A-Z]{2}$"))
    quiet_hours = fields.Nested(
        QuietHoursSchema, allow_none=True, metadata={"description": "null: no quiet hours"}
    )
    reminders = fields.List(fields.Nested(ReminderSchema), validate=validate.Length(max=6))
    progress_report_every_sessions = fields.Integer(validate=validate.Range(min=1, max=100))
    short_notice_margin_minutes = fields.Integer(validate=validate.Range(min=0, max=60 * 24 * 7))
    staff_emails = fields.Dict(
        keys=fields.String(validate=_ID),
        values=fields.Email(),
        validate=validate.Length(max=200),
        metadata={"description": 'Staff inbox per location id; "*" for the clinic-wide one'},
    )
    partner_webhooks = fields.Dict(
        keys=fields.String(validate=_ID),
        values=fields.Nested(PartnerWebhookSchema),
        validate=validate.Length(max=100),
    )
    retry = fields.Nested(RetrySchema)
    updated_at = fields.DateTime(dump_only=True)


class ClinicConfigReplaceSchema(ClinicConfigSchema):
    """The body of `PUT /config`: the whole settings (a webhook without `secret` keeps its
    stored one); checked against the rules by the use case (422 naming the field)."""


# --- template overrides ----------------------------------------------------------------------


class TemplateOverrideReplaceSchema(Strict):
    source = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEMPLATE_CHARS))


class TemplatePreviewSchema(Schema):
    language = fields.String()
    name = fields.String()
    channel = fields.String()
    subject = fields.String(allow_none=True, metadata={"description": "An email's subject"})
    text = fields.String(metadata={"description": "The text body, the SMS or the webhook JSON"})
    html = fields.String(allow_none=True, metadata={"description": "An email's HTML body"})


class TemplateBuiltInSchema(Schema):
    language = fields.String(metadata={"description": "The language of the file used"})
    name = fields.String()
    source = fields.String()


class TemplateNameSchema(Schema):
    name = fields.String(metadata={"description": 'e.g. "patient_welcome.email"'})
    languages = fields.List(fields.String(), metadata={"description": "Its built-in languages"})


class TemplateOverrideQuerySchema(PageQuerySchema):
    """Only `page` and `page_size`."""


class TemplateOverrideSchema(Schema):
    language = fields.String()
    name = fields.String(metadata={"description": 'e.g. "patient_welcome.email"'})
    source = fields.String()
    updated_at = fields.DateTime()
