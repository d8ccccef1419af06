"""Notifications' delivery log as the patient's chart reads it: the messages to one patient."""

from __future__ import annotations

from typing import Any

from services.console.api_clients.http import ServiceApi

MESSAGES_SHOWN = 20


def messages_to_patient(notifications: ServiceApi, patient_id: str) -> dict[str, Any]:
    """A page of the latest messages to the patient (newest first), with the total."""
    return notifications.get(
        "/deliveries", recipient=f"patient:{patient_id}", page_size=MESSAGES_SHOWN
    )
