from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources

import pytest

from services.intake.partner_forms.fhir import referral_from_fhir_bundle
from services.intake.partner_forms.reading import form_of, read_cancellation, read_referral
from shared.errors import Invalid

EXAMPLES = resources.files("services.intake.partner_forms") / "examples"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def test_the_native_example_holds_the_same_referral_as_the_fhir_example():
    native = read_referral("native", example("referral_native.json"), region="US")
    fhir = referral_from_fhir_bundle(example("referral_bundle.json"))
    # FHIR's quantityQuantity carries only the total, and the bundle states no channel consent
    assert native.patient.consent == {"email": True, "sms": True}
    assert (
        replace(native, visits_per_period=None, patient=replace(native.patient, consent=None))
        == fhir
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r.update(tenant_id="clinic-b"), "tenant_id"),
        (lambda r: r.update(_id="ref_x"), "_id"),
        (lambda r: r["patient"].update(phone="555"), "patient.phone"),
        (lambda r: r["patient"].update(email="not-an-address"), "patient.email"),
        (lambda r: r["requester"].update(npi="12"), "requester.npi"),
        (
            lambda r: r["diagnoses"][0].update(system="http://snomed.info/sct"),
            "diagnoses[0].system",
        ),
        (lambda r: r.pop("valid_from"), "valid_from"),
        (lambda r: r["patient"].pop("birth_date"), "patient.birth_date"),
        (lambda r: r.update(authorized_visits="8"), "authorized_visits"),
        (lambda r: r.update(diagnoses=[]), "diagnoses"),
    ],
    ids=[
        "tenant_id",
        "_id",
        "phone",
        "email",
        "npi",
        "icd-system",
        "no-valid-from",
        "no-birth-date",
        "visits-as-text",
        "no-diagnoses",
    ],
)
def test_the_native_form_names_each_field_at_fault(change, field):
    referral = example("referral_native.json")
    change(referral)
    with pytest.raises(Invalid) as caught:
        read_referral("native", referral, region="US")
    assert field in caught.value.errors, caught.value.errors


def test_a_phone_number_without_country_code_is_read_in_the_configured_region():
    referral = example("referral_native.json")
    referral["patient"]["phone"] = "020 7946 0018"
    assert read_referral("native", referral, region="GB").patient.phone == "+442079460018"


@pytest.mark.parametrize(
    ("content_type", "form"),
    [
        ("application/fhir+json", "fhir"),
        ("application/json; charset=utf-8", "native"),
        ("APPLICATION/JSON", "native"),
    ],
)
def test_the_content_type_decides_the_form(content_type, form):
    assert form_of(content_type) == form


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/xml"])
def test_other_content_types_are_refused(content_type):
    with pytest.raises(Invalid) as caught:
        form_of(content_type)
    assert list(caught.value.errors) == ["datacontenttype"]


def test_a_cancellation_needs_the_partners_referral_id_and_nothing_else():
    assert read_cancellation({"partner_referral_id": "R1"}) == {
        "partner_referral_id": "R1",
        "reason": "",
    }
    with pytest.raises(Invalid) as caught:
        read_cancellation({"reason": "x", "status": "cancelled"})
    assert set(caught.value.errors) == {"partner_referral_id", "status"}
