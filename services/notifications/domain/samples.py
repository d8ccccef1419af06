"""Sample event data for every template: a tenant's override must render from it before it is
stored, and a patient template must pass the PHI guard with clinical detail in the data.

The samples follow docs/events.md and deliberately carry diagnoses, screening reasons and
outcome measures, so an override that shows any of them to a patient is refused at upload.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .failure_digest import digest_data

CLINICAL: dict[str, Any] = {
    "diagnoses": [
        {"code": "M79.7", "display": "Fibromyalgia"},
        {"code": "G44.209", "display": "Tension-type headache, unspecified"},
    ],
    "screening": {
        "outcome": "needs_clearance",
        "reasons": [{"rule_id": "dvt", "tier": "absolute", "label": "Known DVT in left calf"}],
    },
    "measures": [
        {"measure": "ODI", "baseline": 42, "latest": 30, "change": -12, "clinically_improved": True}
    ],
}
REFERRER = {
    "name": "Ada Lee",
    "email": "lee@practice.example",
    "prefix": "Dr.",
    "family_name": "Lee",
}
PATIENT = {
    "given_name": "Maria",
    "family_name": "Lopez",
    "email": "maria@example.org",
    "phone": "+12125550142",
    "language": "en",
    "birth_date": "1980-02-29",
}
LETTER = {"partner_referral_id": "P-77", "patient": PATIENT, "clinic_name": "Sample Clinic"}
"""What a letter to the referrer is rendered with beside a planning event's data (its context:
`referrer_letters.letter_context`)."""
REFERRAL = {
    "referral_id": "ref-1", "partner_id": "partner-9", "partner_referral_id": "P-77",
    "patient_id": "pat-1", "location_id": "loc-1", "referrer": REFERRER, "patient": PATIENT,
    "consent": {"email": True, "sms": True}, "intake_link": "https://clinic.example/intake/tok",
    "authorized_visits": 8, "valid_from": "2025-06-01", "expires_on": "2025-09-01",
    "clinic_name": "Sample Clinic",
}  # fmt: skip
SESSION = {
    "session_id": "ses-1", "plan_id": "plan-1", "referral_id": "ref-1", "patient_id": "pat-1",
    "location_id": "loc-1", "therapist_id": "th-1", "room_id": "r-1",
    "starts_at": "2025-06-12T14:00:00Z", "duration_minutes": 60,
    "location_tz": "America/New_York", "location_name": "Downtown Studio",
    "cancelled_by": "clinic", "booked_by": "patient",
}  # fmt: skip
PLAN = {"plan_id": "plan-1", "referral_id": "ref-1", "patient_id": "pat-1", "location_id": "loc-1"}
INTAKE = {**PLAN, "intake_id": "in-1", "screening": CLINICAL["screening"]}
ACCOUNT_LINK = {
    "user_id": "usr-1", "name": "Sam Ortiz", "email": "sam@clinic.example",
    "tenant_name": "Sample Clinic", "link": "https://console.clinic.example/invitation/tok",
    "expires_at": "2025-06-12T14:00:00+00:00",
}  # fmt: skip

FAILURES = [
    {
        "recipient_key": "patient:pat-1",
        "channel": channel,
        "template": template,
        "reason": reason,
        "attempts": 1,
        "failed_event_type": event_type,
        "location_id": "loc-1",
    }
    for channel, template, event_type, reason in (
        ("sms", "patient_session_reminder", "session.reminder_due", "SMS provider refused (400)"),
        ("email", "patient_welcome", "referral.accepted", "SMTP refused the recipient (550)"),
    )
]

SAMPLES: Mapping[str, tuple[str, dict[str, Any]]] = {
    "patient_welcome": ("referral.accepted", REFERRAL),
    "patient_session_confirmed": ("session.scheduled", SESSION),
    "patient_session_rescheduled": ("session.rescheduled", SESSION),
    "patient_session_cancelled": ("session.cancelled", SESSION),
    "patient_session_reminder": (
        "session.reminder_due",
        {**SESSION, "offset_key": "sms-2h", "channel": "sms"},
    ),
    "referrer_referral_accepted": ("referral.accepted", REFERRAL),
    "referrer_referral_rejected": (
        "referral.rejected",
        {
            "partner_id": "partner-9",
            "partner_referral_id": "P-77",
            "referrer": REFERRER,
            "patient": {k: PATIENT[k] for k in ("given_name", "family_name", "birth_date")},
            "reasons": [{"field": "diagnoses", "message": "at least one diagnosis is required"}],
        },
    ),
    "referrer_plan_summary": (
        "plan.activated",
        {
            **PLAN,
            **LETTER,
            "referrer": REFERRER,
            "summary": {
                "techniques": ["myofascial release"],
                "planned_sessions": 8,
                "frequency_per_week": 1,
                "goals": [{"measure": "ODI", "baseline": 42, "target": 20}],
            },
        },
    ),
    "referrer_progress_report": (
        "progress.updated",
        {
            **PLAN,
            **LETTER,
            "referrer": REFERRER,
            "sessions_completed": 4,
            "measures": CLINICAL["measures"],
        },
    ),
    "referrer_discharge_report": (
        "plan.completed",
        {
            **PLAN,
            **LETTER,
            "referrer": REFERRER,
            "sessions_completed": 8,
            "measures": CLINICAL["measures"],
            "reason": "goals met",
        },
    ),  # fmt: skip
    "staff_new_referral": ("referral.accepted", REFERRAL),
    "staff_clearance_needed": ("intake.completed", INTAKE),
    "staff_treatment_blocked": ("intake.completed", INTAKE),
    "staff_session_booked": ("session.scheduled", SESSION),
    "staff_patient_cancelled": ("session.cancelled", {**SESSION, "cancelled_by": "patient"}),
    "staff_referral_expiring": (
        "referral.expiring",
        {**PLAN, "kind": "visits", "remaining": 2, "expires_on": "2025-09-01"},
    ),
    "staff_referral_expired": ("referral.expired", {**PLAN, "expires_on": "2025-09-01"}),
    "staff_delivery_failed": (
        "notification.delivery_failed",
        digest_data([{"data": failure} for failure in FAILURES]),
    ),
    "partner_referral_status": ("referral.accepted", REFERRAL),
    "user_invitation": ("user.invited", ACCOUNT_LINK),
    "user_password_reset": ("user.password_reset_requested", ACCOUNT_LINK),
}


def sample_data(template: str) -> tuple[str, dict[str, Any]]:
    """(event type, data) to render `template` with; clinical detail added for patients."""
    event_type, data = SAMPLES[template]
    return event_type, {**data, **CLINICAL}
