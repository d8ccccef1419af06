"""What intake's events tell notifications for the letters to the prescriber: the clinic's name,
the patient's birth date and the prescriber's prefix and family name ("Dr. Chen"), for an
accepted referral and for a refused one whose form could be read."""

from __future__ import annotations

from testkit.partner import FHIR
from testkit.referrals import fhir_referral, resource


def test_an_accepted_referral_names_the_clinic_the_patients_birth_date_and_the_prescriber(
    partner, internal_events
):
    partner.refer("clinic-a", fhir_referral("REF-FACTS"), datacontenttype=FHIR)

    [accepted] = internal_events.expect("referral.accepted")
    data = accepted["data"]
    assert data["clinic_name"] == "Clinic-A"  # the tenant's name (World names it so)
    assert data["patient"]["birth_date"] == "1978-04-12"
    assert {k: data["referrer"][k] for k in ("name", "prefix", "family_name")} == {
        "name": "David Chen",
        "prefix": "Dr.",
        "family_name": "Chen",
    }


def test_a_refused_referral_names_its_patient_and_prescriber_for_the_letter(
    world, partner, internal_events
):
    bundle = fhir_referral("REF-REFUSED")
    resource(bundle, "ServiceRequest")["occurrencePeriod"] = {
        "start": "2020-01-01",
        "end": "2020-03-01",
    }
    partner.refer("clinic-a", bundle, datacontenttype=FHIR)

    [rejected] = internal_events.expect("referral.rejected")
    data = rejected["data"]
    assert data["patient"] == {
        "given_name": "Maria Elena",
        "family_name": "Alvarez",
        "birth_date": "1978-04-12",
    }
    assert (data["referrer"]["prefix"], data["referrer"]["family_name"]) == ("Dr.", "Chen")
    assert data["clinic_name"] == "Clinic-A"
    stored = world.db.partner_rejections.find_one()
    assert "patient" not in stored and "Alvarez" not in str(stored)  # the refusal keeps no PHI
