from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date
from importlib import resources

import pytest

from services.intake.domain import review
from services.intake.domain.referral import (
    ICD10CM_SYSTEM,
    PersonName,
    Requester,
    check_terms,
)
from services.intake.partner_forms.fhir import ReferralFormError, referral_from_fhir_bundle
from testkit.fhir_examples import patient_of, third_party

EXAMPLES = resources.files("services.intake.partner_forms") / "examples"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def the_bundle() -> dict:
    return example("referral_bundle.json")


def resource(bundle: dict, kind: str, nth: int = 0) -> dict:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind][nth]


def errors_of(bundle: dict) -> dict[str, list[str]]:
    with pytest.raises(ReferralFormError) as caught:
        referral_from_fhir_bundle(bundle)
    return caught.value.errors


def test_the_example_bundle_maps_to_a_referral():
    referral = referral_from_fhir_bundle(the_bundle(), tenant_id="northside-massage")

    assert referral.partner_referral_id == "REF-2026-10-4471"
    assert (referral.status, referral.priority) == ("active", "routine")
    assert referral.tenant_id == "northside-massage"
    assert [d.code for d in referral.diagnoses] == ["M54.50", "M54.2"]
    assert referral.authorized_visits == 8
    assert (referral.valid_from, referral.expires_on) == (date(2026, 11, 1), date(2027, 1, 29))
    assert referral.authored_on == date(2026, 10, 28)
    assert (referral.patient.given_name, referral.patient.family_name) == ("Maria Elena", "Alvarez")
    assert referral.patient.email == "maria.alvarez@example.com"
    assert referral.patient.phone == "+16175550134"
    assert referral.patient.language == "es"
    assert referral.requester == Requester(
        name="David Chen",
        npi="1234567893",
        email="d.chen@clinic.example.org",
        phone="+16175550100",
        prefix="Dr.",  # kept for letters: "Dear Dr. Chen"
        family_name="Chen",
    )
    assert referral.body_sites == ["Lower back", "Neck"]


def test_the_example_referral_has_acceptable_terms_before_it_starts():
    referral = referral_from_fhir_bundle(the_bundle())
    assert check_terms(referral, date(2026, 10, 30)) == []


def drop_subject(b: dict) -> None:
    del resource(b, "ServiceRequest")["subject"]


def unknown_icd10_code(b: dict) -> None:
    resource(b, "Condition")["code"]["coding"][0]["code"] = "X99.99"


def retired_category_code(b: dict) -> None:
    resource(b, "Condition")["code"]["coding"][0]["code"] = "M54.5"


def snomed_only_condition(b: dict) -> None:
    resource(b, "Condition", 1)["code"]["coding"][0]["system"] = "http://snomed.info/sct"


def invalid_status(b: dict) -> None:
    resource(b, "ServiceRequest")["status"] = "approved"


def invalid_intent(b: dict) -> None:
    resource(b, "ServiceRequest")["intent"] = "wish"


def invalid_priority(b: dict) -> None:
    resource(b, "ServiceRequest")["priority"] = "soon"


def no_service_request(b: dict) -> None:
    b["entry"] = [e for e in b["entry"] if e["resource"]["resourceType"] != "ServiceRequest"]


def two_service_requests(b: dict) -> None:
    b["entry"].append(copy.deepcopy(b["entry"][0]))


def broken_subject_reference(b: dict) -> None:
    resource(b, "ServiceRequest")["subject"]["reference"] = "urn:uuid:00000000-0000-0000-0000-0"


def broken_condition_reference(b: dict) -> None:
    resource(b, "ServiceRequest")["reasonReference"][1]["reference"] = "Condition/nope"


def subject_pointing_at_the_practitioner(b: dict) -> None:
    request = resource(b, "ServiceRequest")
    request["subject"] = dict(request["requester"])


def missing_requester(b: dict) -> None:
    del resource(b, "ServiceRequest")["requester"]


def impossible_birth_date(b: dict) -> None:
    resource(b, "Patient")["birthDate"] = "1978-13-40"


def invalid_phone(b: dict) -> None:
    resource(b, "Patient")["telecom"][1]["value"] = "555-01"


def invalid_email(b: dict) -> None:
    resource(b, "Patient")["telecom"][0]["value"] = "maria@"


def invalid_practitioner_phone(b: dict) -> None:
    resource(b, "Practitioner")["telecom"][0]["value"] = "12"


def fractional_visits(b: dict) -> None:
    resource(b, "ServiceRequest")["quantityQuantity"]["value"] = 8.5


def no_visits(b: dict) -> None:
    del resource(b, "ServiceRequest")["quantityQuantity"]


def visits_as_a_ratio(b: dict) -> None:
    request = resource(b, "ServiceRequest")
    del request["quantityQuantity"]
    request["quantityRatio"] = {
        "numerator": {"value": 2},
        "denominator": {"value": 1, "code": "wk"},
    }


def no_period_end(b: dict) -> None:
    del resource(b, "ServiceRequest")["occurrencePeriod"]["end"]


def no_period(b: dict) -> None:
    del resource(b, "ServiceRequest")["occurrencePeriod"]


def unknown_element(b: dict) -> None:
    resource(b, "ServiceRequest")["visits"] = 8


def malformed_authored_on(b: dict) -> None:
    resource(b, "ServiceRequest")["authoredOn"] = "yesterday"


def unknown_resource_type(b: dict) -> None:
    b["entry"][1]["resource"]["resourceType"] = "Patiant"


def entry_without_resource(b: dict) -> None:
    b["entry"].append({"fullUrl": "urn:uuid:1"})


def searchset_bundle(b: dict) -> None:
    b["type"] = "searchset"


def no_identifier(b: dict) -> None:
    del resource(b, "ServiceRequest")["identifier"]


def no_diagnosis(b: dict) -> None:
    del resource(b, "ServiceRequest")["reasonReference"]


def completed_status(b: dict) -> None:
    resource(b, "ServiceRequest")["status"] = "completed"


def a_plan_not_an_order(b: dict) -> None:
    resource(b, "ServiceRequest")["intent"] = "plan"


def no_family_name(b: dict) -> None:
    del resource(b, "Patient")["name"][0]["family"]


def condition_code_wrong_type(b: dict) -> None:
    resource(b, "Condition", 1)["code"]["coding"][0]["system"] = 42


@pytest.mark.parametrize(
    ("mutate", "path", "message"),
    [
        (drop_subject, "ServiceRequest.subject", "is required"),
        (condition_code_wrong_type, "Condition[1].code.coding[0].system", "valid string"),
        (invalid_status, "ServiceRequest.status", "'approved' is not one of draft, active"),
        (invalid_intent, "ServiceRequest.intent", "'wish' is not one of proposal"),
        (invalid_priority, "ServiceRequest.priority", "'soon' is not one of routine"),
        (no_service_request, "Bundle.entry", "one ServiceRequest expected, found 0"),
        (two_service_requests, "Bundle.entry", "one ServiceRequest expected, found 2"),
        (broken_subject_reference, "ServiceRequest.subject", "is not in the bundle"),
        (subject_pointing_at_the_practitioner, "ServiceRequest.subject", "must be Patient"),
        (missing_requester, "ServiceRequest.requester", "is required"),
        (impossible_birth_date, "Patient.birthDate", "Date value"),
        (invalid_phone, "Patient.telecom[1]", "phone: '555-01'"),
        (invalid_email, "Patient.telecom[0]", "email: "),
        (fractional_visits, "ServiceRequest.quantityQuantity.value", "8.5 is not a positive whole"),
        (unknown_element, "ServiceRequest.visits", "is not an element of this resource"),
        (malformed_authored_on, "ServiceRequest.authoredOn", "DateTime value"),
        (unknown_resource_type, "Bundle.entry[1].resource.resourceType", "unknown type 'Patiant'"),
        (entry_without_resource, "Bundle.entry[5].resource", "a resource is required"),
        (completed_status, "ServiceRequest.status", "'completed' referrals do not authorize"),
        (a_plan_not_an_order, "ServiceRequest.intent", "'plan' is not an order"),
        (searchset_bundle, "Bundle.type", "must be one of transaction"),
        (no_identifier, "ServiceRequest.identifier", "the partner's referral id is required"),
        (no_family_name, "Patient.name", "a family name is required"),
    ],
    ids=lambda value: value.__name__ if callable(value) else None,
)
def test_a_malformed_bundle_is_refused_with_an_error_naming_the_field(
    mutate: Callable[[dict], None], path: str, message: str
):
    bundle = the_bundle()
    mutate(bundle)
    errors = errors_of(bundle)
    assert path in errors, errors
    assert any(message in m for m in errors[path]), errors[path]


@pytest.mark.parametrize("not_a_bundle", [None, [], {"resourceType": "ServiceRequest"}, "Bundle"])
def test_anything_but_a_bundle_is_refused(not_a_bundle):
    assert errors_of(not_a_bundle) == {"Bundle.resourceType": ["a FHIR Bundle is required"]}


def test_every_problem_is_reported_at_once():
    bundle = the_bundle()
    invalid_status(bundle)
    invalid_phone(bundle)
    invalid_priority(bundle)
    fractional_visits(bundle)
    assert set(errors_of(bundle)) == {
        "ServiceRequest.status",
        "Patient.telecom[1]",
        "ServiceRequest.priority",
        "ServiceRequest.quantityQuantity.value",
    }


def test_the_error_message_lists_the_paths_and_is_a_value_error():
    bundle = the_bundle()
    drop_subject(bundle)
    with pytest.raises(ValueError, match=r"^ServiceRequest\.subject: is required$"):
        referral_from_fhir_bundle(bundle)


def test_references_resolve_by_type_and_id_as_well_as_by_full_url():
    bundle = the_bundle()
    for entry in bundle["entry"]:
        entry.pop("fullUrl")
    resource(bundle, "Patient")["id"] = "pat-1"
    resource(bundle, "Practitioner")["id"] = "dr-chen"
    resource(bundle, "Condition", 0)["id"] = "lbp"
    resource(bundle, "Condition", 1)["id"] = "neck"
    request = resource(bundle, "ServiceRequest")
    request["subject"] = {"reference": "https://partner.example.org/fhir/Patient/pat-1"}
    request["requester"] = {"reference": "Practitioner/dr-chen"}
    request["reasonReference"] = [{"reference": "Condition/lbp"}, {"reference": "Condition/neck"}]

    referral = referral_from_fhir_bundle(bundle)

    assert referral.patient.family_name == "Alvarez"
    assert [d.code for d in referral.diagnoses] == ["M54.50", "M54.2"]


def test_diagnoses_can_come_from_reason_codes():
    bundle = the_bundle()
    request = resource(bundle, "ServiceRequest")
    del request["reasonReference"]
    request["reasonCode"] = [
        {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M6283 8"}]},
        {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "g44209"}]},
    ]
    read = review.with_billable_diagnoses(referral_from_fhir_bundle(bundle))
    assert [d.code for d in read.diagnoses] == ["G44.209"]
    assert [(o.code, o.system) for o in read.other_reasons] == [("M6283 8", ICD10CM_SYSTEM)]


def test_a_practitioner_role_requester_brings_the_organization():
    bundle = the_bundle()
    bundle["entry"] += [
        {
            "fullUrl": "urn:uuid:role-1",
            "resource": {
                "resourceType": "PractitionerRole",
                "practitioner": {"reference": "urn:uuid:9b7a6c5d-4e3f-4a2b-9c1d-0e1f2a3b4c52"},
                "organization": {"reference": "urn:uuid:org-1"},
            },
        },
        {
            "fullUrl": "urn:uuid:org-1",
            "resource": {"resourceType": "Organization", "name": "Back Bay Spine Center"},
        },
    ]
    resource(bundle, "ServiceRequest")["requester"] = {"reference": "urn:uuid:role-1"}

    requester = referral_from_fhir_bundle(bundle).requester

    assert (requester.name, requester.npi) == ("David Chen", "1234567893")
    assert requester.organization == "Back Bay Spine Center"


def test_a_location_reference_becomes_the_location_hint():
    bundle = the_bundle()
    resource(bundle, "ServiceRequest")["locationReference"] = [{"reference": "Location/downtown"}]
    assert referral_from_fhir_bundle(bundle).location_id == "downtown"


def test_a_missing_priority_means_routine():
    bundle = the_bundle()
    del resource(bundle, "ServiceRequest")["priority"]
    assert referral_from_fhir_bundle(bundle).priority == "routine"


def test_phone_numbers_without_a_country_code_are_read_in_the_given_region():
    bundle = the_bundle()
    resource(bundle, "Patient")["telecom"][1]["value"] = "020 7946 0958"
    assert referral_from_fhir_bundle(bundle, region="GB").patient.phone == "+442079460958"


# --- the current name and address, and the former names --------------------------------------


def test_names_and_addresses_marked_old_or_ended_are_not_current_and_old_names_are_former():
    us_core = patient_of(
        third_party("accepted-uscore-rehab-reasoncode-plus-observation-batch.json")
    )
    bundle = the_bundle()
    resource(bundle, "Patient").update(name=us_core["name"], address=us_core["address"])
    patient = referral_from_fhir_bundle(bundle).patient
    assert (patient.given_name, patient.family_name) == ("Amy V.", "Baxter")
    assert patient.former_names == [PersonName("Amy V.", "Shaw")]
    assert patient.address.lines == ["183 MOUNTAIN VIEW ST"]


def test_the_official_name_is_current_and_a_maiden_name_is_former():
    bundle = third_party("accepted-r4-physiotherapy-transaction-urnuuid.json")
    patient = referral_from_fhir_bundle(bundle).patient
    assert (patient.given_name, patient.family_name) == ("Peter James", "Chalmers")
    assert patient.former_names == [PersonName("Peter James", "Windsor")]


@pytest.mark.parametrize(
    ("names", "current", "former"),
    [
        (
            [{"family": "Old", "given": ["A"], "period": {"end": "2020-01-01"}}, {"family": "New"}],
            "New",
            ["Old"],
        ),
        ([{"use": "usual", "family": "Usual"}, {"use": "official", "family": "Off"}], "Off", []),
        ([{"family": "First"}, {"use": "usual", "family": "Usual"}], "Usual", []),
        ([{"family": "Until2030", "period": {"end": "2030"}}], "Until2030", []),
        (
            [{"family": "Until2002", "period": {"end": "2002"}}, {"family": "Now"}],
            "Now",
            ["Until2002"],
        ),
    ],
    ids=["ended-period", "official-first", "usual-before-first", "ends-later", "partial-end-date"],
)
def test_the_current_name_skips_ended_ones_and_prefers_official_then_usual(names, current, former):
    bundle = the_bundle()
    resource(bundle, "Patient")["name"] = names
    patient = referral_from_fhir_bundle(bundle, today=date(2026, 12, 2)).patient
    assert patient.family_name == current
    assert [n.family_name for n in patient.former_names] == former


def test_an_old_address_is_skipped_for_the_current_one():
    bundle = the_bundle()
    patient_resource = resource(bundle, "Patient")
    current = patient_resource["address"][0]
    patient_resource["address"] = [{**current, "use": "old", "line": ["1 Gone St"]}, current]
    assert referral_from_fhir_bundle(bundle).patient.address.lines == current["line"]
