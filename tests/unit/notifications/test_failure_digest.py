"""Failure notices to staff: the period they wait for, and the one report that lists them."""

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.domain.failure_digest import DIGEST_PERIOD, digest_data, period_end
from services.notifications.domain.templates import TemplateRenderer, build_context


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 3, 10, hour, minute, second, tzinfo=UTC)


def failure(patient: str, channel: str = "email", template: str = "patient_welcome") -> dict:
    return {
        "recipient_key": f"patient:{patient}", "channel": channel, "template": template,
        "reason": "SMTP refused the recipient (550)", "attempts": 1,
        "failed_event_type": "referral.accepted", "location_id": "loc-1",
    }  # fmt: skip


def report(*failures: dict):
    data = digest_data([{"data": f} for f in failures])
    context = build_context("notification.delivery_failed", data, clinic_name="Calm Hands")
    return TemplateRenderer().render("staff_delivery_failed", "email", context)


def test_a_period_is_a_quarter_hour_aligned_to_the_clock():
    assert timedelta(minutes=15) == DIGEST_PERIOD
    assert period_end(at(16, 0)) == at(16, 15)  # a boundary starts a period
    assert period_end(at(16, 14, 59)) == at(16, 15)
    assert period_end(at(16, 15)) == at(16, 30)


@pytest.mark.parametrize(
    ("channel", "subject"),
    [
        ("email", "An email message could not be delivered"),
        ("sms", "An SMS message could not be delivered"),
        ("webhook", "A webhook message could not be delivered"),
    ],
)
def test_one_failure_is_told_with_the_right_article(channel, subject):
    message = report(failure("pat-1", channel))
    assert message.subject == subject
    assert message.text.startswith(f"{subject} after 1 attempt.")
    assert "patient:pat-1" in message.text and "(550)" in message.text


def test_several_failures_are_one_message_listing_each_with_counts_by_kind():
    message = report(
        failure("pat-1"), failure("pat-2"), failure("pat-3", "sms", "patient_session_reminder")
    )
    assert message.subject == "3 messages could not be delivered"
    lines = message.text.splitlines()
    assert lines[:3] == [
        "3 messages could not be delivered:",
        "  2 x email, patient_welcome",
        "  1 x SMS, patient_session_reminder",
    ]
    assert message.text.count("An email message could not be delivered after 1 attempt.") == 2
    assert message.text.count("An SMS message could not be delivered after 1 attempt.") == 1
    assert [line for line in lines if "Recipient:" in line] == [
        "  Recipient: patient:pat-1", "  Recipient: patient:pat-2", "  Recipient: patient:pat-3",
    ]  # fmt: skip
