"""The notifications service's pure rules: who hears what, when, and in which words."""

from .phi_guard import PhiLeak, assert_patient_safe, clinical_terms
from .quiet_hours import DEFAULT_QUIET_HOURS, QuietHours, next_allowed_send
from .reminders import DEFAULT_REMINDER_OFFSETS, Reminder, ReminderOffset, plan_reminders
from .rules import (
    DELIVERY_FAILED,
    REMINDER_DUE,
    Notification,
    PatientPrefs,
    TenantConfig,
    delivery_key,
    plan_notifications,
    send_at,
)
from .templates import RenderedMessage, TemplateError, TemplateRenderer, render_notification

__all__ = [
    "DEFAULT_QUIET_HOURS",
    "DEFAULT_REMINDER_OFFSETS",
    "DELIVERY_FAILED",
    "REMINDER_DUE",
    "Notification",
    "PatientPrefs",
    "PhiLeak",
    "QuietHours",
    "Reminder",
    "ReminderOffset",
    "RenderedMessage",
    "TemplateError",
    "TemplateRenderer",
    "TenantConfig",
    "assert_patient_safe",
    "clinical_terms",
    "delivery_key",
    "next_allowed_send",
    "plan_notifications",
    "plan_reminders",
    "render_notification",
    "send_at",
]
