"""What the demo says: the clinic, its staff, the partner, a FHIR R4 referral, the intake form,
the session record. Data only (dates relative to `today`), no I/O.

The referral is the one of docs/partners.md (Maria Elena Alvarez, low back pain and neck pain,
8 visits), sent to the clinic's second location, with dates that make sense today.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

CLINIC_NAME = "Harbor Massage Therapy"
ROOMS = [{"name": "Room 1"}, {"name": "Room 2"}]
"""Each location's rooms (ids `room-1`, `room-2`): a session books one of them."""
LOCATIONS = {  # display name -> (IANA time zone, street address)
    "Downtown": (
        "America/New_York",
        {"lines": ["200 Atlantic Avenue"], "city": "Boston", "state": "MA", "postal_code": "02110"},
    ),
    "Lakeside": (
        "America/Chicago",
        {
            "lines": ["1600 Sheridan Road"],
            "city": "Evanston",
            "state": "IL",
            "postal_code": "60201",
        },
    ),
}
TREATING_LOCATION = "Lakeside"  # where the referral sends the patient
STAFF = (  # (role, name, limited to the treating location)
    ("admin", "Dana Whitfield (clinic admin)", False),
    ("front_desk", "Front desk", False),
    ("therapist", "Sam Ortiz, LMT", True),
)
THERAPIST_ID = "sam-ortiz"
PARTNER_NAME = "Northeast Referral Network"
PATIENT_EMAIL = "maria.alvarez@example.com"
REFERRER_EMAIL = "d.chen@clinic.example.org"
REMINDER_MINUTES_BEFORE = 1.0


def staff_emails(tenant_id: str, location_ids: dict[str, str]) -> dict[str, str]:
    """Staff inboxes per location id ("*": the clinic-wide one)."""
    inboxes = {"*": f"office@{tenant_id}.example.org"}
    for name, location_id in location_ids.items():
        inboxes[location_id] = f"{name.lower()}@{tenant_id}.example.org"
    return inboxes


def notification_settings(tenant_id: str, location_ids: dict[str, str]) -> dict[str, Any]:
    """Notifications' settings for the clinic (PUT /config): short reminders for the demo."""
    return {
        "clinic_name": CLINIC_NAME,
        "language": "en",
        "timezone": "America/New_York",
        "quiet_hours": None,  # so the demo's messages go out whatever the hour
        "reminders": [
            {"key": "email-1m", "channel": "email", "minutes_before": REMINDER_MINUTES_BEFORE}
        ],
        "progress_report_every_sessions": 1,
        "staff_emails": staff_emails(tenant_id, location_ids),
    }


def _uuid_url(n: int) -> str:
    return f"urn:uuid:00000000-0000-4000-8000-{n:012d}"


SERVICE_REQUEST, PATIENT, PRACTITIONER, LOW_BACK, NECK = (_uuid_url(n) for n in range(1, 6))


def fhir_referral(partner_referral_id: str, today: date, location_id: str) -> dict[str, Any]:
    """A FHIR R4 transaction Bundle: ServiceRequest, Patient, Practitioner, two Conditions."""
    entries = [
        (SERVICE_REQUEST, _service_request(partner_referral_id, today, location_id)),
        (PATIENT, _patient()),
        (PRACTITIONER, _practitioner()),
        (LOW_BACK, _condition("M54.50", "Low back pain, unspecified", "Lower back")),
        (NECK, _condition("M54.2", "Cervicalgia", "Neck")),
    ]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": url,
                "resource": resource,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
            for url, resource in entries
        ],
    }


def _service_request(partner_referral_id: str, today: date, location_id: str) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "identifier": [
            {"system": "https://referrals.partner.example.org/id", "value": partner_referral_id}
        ],
        "status": "active",
        "intent": "order",
        "priority": "routine",
        "code": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/service-type",
                    "code": "25",
                    "display": "Massage Therapy",
                }
            ]
        },
        "quantityQuantity": {"value": 8, "unit": "visits"},
        "subject": {"reference": PATIENT},
        "occurrencePeriod": {
            "start": (today - timedelta(days=3)).isoformat(),
            "end": (today + timedelta(days=60)).isoformat(),
        },
        "authoredOn": (today - timedelta(days=4)).isoformat(),
        "requester": {"reference": PRACTITIONER},
        "reasonReference": [{"reference": LOW_BACK}, {"reference": NECK}],
        "locationReference": [{"reference": f"Location/{location_id}"}],
        "bodySite": [{"text": "Lower back"}, {"text": "Neck"}],
        "note": [{"text": "Therapeutic massage, 2 visits a week. Progress report to requester."}],
    }


def _patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [
            {"system": "https://referrals.partner.example.org/mrn", "value": "MRN-558201"}
        ],
        "name": [{"use": "official", "family": "Alvarez", "given": ["Maria", "Elena"]}],
        "telecom": [
            {"system": "email", "value": PATIENT_EMAIL, "use": "home"},
            {"system": "phone", "value": "(847) 555-0134", "use": "mobile", "rank": 1},
        ],
        "gender": "female",
        "birthDate": "1978-04-12",
        "address": [
            {
                "line": ["41 Elm Street", "Apt 3"],
                "city": "Evanston",
                "state": "IL",
                "postalCode": "60201",
                "country": "US",
            }
        ],
        "communication": [
            {
                "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en"}]},
                "preferred": True,
            }
        ],
    }


def _practitioner() -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}],
        "name": [{"family": "Chen", "given": ["David"], "prefix": ["Dr."]}],
        "telecom": [
            {"system": "phone", "value": "+1 617 555 0100", "use": "work"},
            {"system": "email", "value": REFERRER_EMAIL, "use": "work"},
        ],
    }


def _condition(code: str, display: str, body_site: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {
            "coding": [
                {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code, "display": display}
            ]
        },
        "bodySite": [{"text": body_site}],
        "subject": {"reference": PATIENT},
    }


# Oswestry Disability Index answers (10 items, 0-5): 20/50 = 40 %, then 13/50 = 26 %.
ODI_AT_INTAKE = [3, 2, 2, 2, 2, 2, 2, 1, 2, 2]
ODI_AFTER_SESSION = [2, 1, 1, 2, 1, 2, 1, 1, 1, 1]


def intake_form(referral_id: str) -> dict[str, Any]:
    """The health history the front desk records with the patient (POST /intakes)."""
    return {
        "referral_id": referral_id,
        "history": {"conditions": [], "notes": "Desk job; pain worse after long sitting."},
        "medications": ["cyclobenzaprine 5 mg at night", "ibuprofen 400 mg as needed"],
        "symptoms": [
            {"description": "Aching low back pain", "body_area": "lower back", "severity": 7},
            {"description": "Stiff neck in the evening", "body_area": "neck", "severity": 4},
        ],
        "vitals": {"temperature_c": 36.7, "blood_pressure": {"systolic": 124, "diastolic": 79}},
        "body_areas": ["lower back", "neck"],
        "baseline": [
            {"measure": "NPRS", "items": [7]},
            {"measure": "ODI", "items": ODI_AT_INTAKE},
        ],
        "consent": {
            "signed_by": "Maria Elena Alvarez",
            "agreed": True,
            "text_version": "v1",
            "email": True,
            "sms": False,
        },
    }


def session_record(techniques: list[str]) -> dict[str, Any]:
    """What the therapist records after the first session: SOAP notes and measurements."""
    return {
        "soap": {
            "subjective": "Low back pain 4/10 since the last visit; sleeping better.",
            "objective": "Reduced paraspinal guarding L3-L5; lumbar flexion improved.",
            "assessment": "Responding well to treatment.",
            "plan": "Continue home stretches; re-assess in two weeks.",
        },
        "techniques": techniques,
        "areas": ["lower back", "neck"],
        "pressure": "moderate",
        "response": "Tolerated well; no soreness reported.",
        "measurements": [
            {"measure": "NPRS", "score": 4},
            {"measure": "ODI", "items": ODI_AFTER_SESSION},
        ],
    }
