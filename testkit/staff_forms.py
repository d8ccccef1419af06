"""What staff send the APIs about a patient: an intake form with a clear screening, and a
treatment session's notes (the tests and the benchmark send the same bodies)."""

from __future__ import annotations

from typing import Any


def clear_intake_form(
    referral_id: str, *, signed_by: str = "Maria Elena Alvarez", pain: int = 7
) -> dict[str, Any]:
    """The body of `POST /intakes`: low back pain at `pain` (NPRS), no contraindication, so the
    plan is drafted at once."""
    return {
        "referral_id": referral_id,
        "history": {"conditions": [], "surgeries": [], "notes": "Desk job."},
        "medications": [],
        "symptoms": [
            {
                "description": "Low back pain when sitting",
                "body_area": "lower back",
                "severity": pain,
            }
        ],
        "vitals": {"temperature_c": 36.8, "blood_pressure": {"systolic": 124, "diastolic": 80}},
        "body_areas": ["lower back"],
        "baseline": [{"measure": "NPRS", "items": [pain]}],
        "consent": {"signed_by": signed_by, "agreed": True, "email": True, "sms": False},
    }


def session_notes(measurements: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    """The body of `POST /plans/{plan_id}/sessions/{session_id}/complete`: SOAP notes, what was
    done, and the outcome `measurements` taken."""
    return {
        "soap": {
            "subjective": "less pain when sitting",
            "objective": "lumbar flexion improved",
            "assessment": "responding to treatment",
            "plan": "continue",
        },
        "techniques": ["myofascial_release"],
        "areas": ["lower back"],
        "pressure": "moderate",
        "response": "tolerated well",
        "measurements": measurements,
        **more,
    }
