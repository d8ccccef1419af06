"""The referral (prescription for massage therapy) as the intake service holds it.

Both input forms map to ``Referral``: a FHIR R4 Bundle (``fhir_referral.py``) and the native
JSON form, whose field names are the dataclass fields below (dates as ISO ``YYYY-MM-DD``)::

    partner_referral_id, location_id (optional), status, priority, authored_on,
    patient: {identifiers: [{system, value}], given_name, family_name, birth_date, gender,
              email, phone, language, address: {lines: [..], city, state, postal_code, country},
              consent: {email, sms} (optional),
              former_names: [{given_name, family_name}] (optional: names the patient had before)},
    diagnoses: [{system, code, display}],   # system http://hl7.org/fhir/sid/icd-10-cm
    requester: {name, npi, email, phone, organization, prefix, family_name},
    authorized_visits (optional), visits_per_period: {visits, period, unit: d|wk|mo} (optional),
    valid_from, expires_on (optional), body_sites: [..], notes: [..]

``expires_on`` is the last day on which visits are authorized (inclusive), like the end of a
FHIR ``occurrencePeriod``; without one the clinic's default validity applies. Only ``active``
referrals authorize visits. Beside the terms a referral carries ``other_reasons`` (reasons that
give no ICD-10-CM code: a SNOMED code, a text, an Observation) and ``notices`` (what was kept
as sent although it looks wrong, such as a prescriber's phone that does not validate).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from services.intake.domain import icd10

ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
STATUSES = ("draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown")
PRIORITIES = ("routine", "urgent", "asap", "stat")
ACCEPTED_STATUSES = ("active",)
AUTHORIZED_VISITS_RANGE = (1, 100)
MAX_VALIDITY_DAYS = 366
PERIOD_UNITS = ("d", "wk", "mo")


class ContactError(ValueError):
    """An email address or phone number that cannot be used; ``field`` names which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(slots=True)
class Identifier:
    value: str
    system: str | None = None


@dataclass(slots=True)
class Address:
    lines: list[str] = field(default_factory=list)
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


@dataclass(slots=True)
class PersonName:
    given_name: str
    family_name: str


@dataclass(slots=True)
class ReferredPatient:
    given_name: str
    family_name: str
    birth_date: date | None = None
    gender: str | None = None  # male | female | other | unknown (FHIR administrative gender)
    email: str | None = None
    phone: str | None = None  # E.164
    language: str | None = None  # BCP-47, e.g. "en", "es"
    identifiers: list[Identifier] = field(default_factory=list)
    address: Address | None = None
    consent: dict[str, bool] | None = None  # {"email": bool, "sms": bool}; None: not stated
    former_names: list[PersonName] = field(default_factory=list)  # e.g. a maiden name


@dataclass(slots=True)
class Diagnosis:
    code: str
    display: str | None = None
    system: str = ICD10CM_SYSTEM


@dataclass(slots=True)
class OtherReason:
    """A reason for the referral that is not an ICD-10-CM code: kept for the clinic, as sent.

    Beside a billable code it is supporting information; alone, the clinic settles the code with
    the prescriber (the referral waits for its review). `resource`: where it was (Condition,
    Observation, reasonCode, ...).
    """

    resource: str
    text: str | None = None
    system: str | None = None
    code: str | None = None


@dataclass(slots=True)
class Notice:
    """Something kept as sent that looks wrong (a prescriber's phone that does not validate)."""

    field: str
    message: str


@dataclass(slots=True)
class Requester:
    name: str
    npi: str | None = None
    email: str | None = None
    phone: str | None = None
    organization: str | None = None
    prefix: str | None = None  # "Dr.": how letters greet the prescriber ("Dr. Chen")
    family_name: str | None = None


@dataclass(slots=True)
class VisitsPerPeriod:
    visits: int
    period: int = 1
    unit: str = "wk"


@dataclass(slots=True)
class Referral:
    partner_referral_id: str
    status: str
    priority: str
    patient: ReferredPatient
    diagnoses: list[Diagnosis]
    requester: Requester
    authorized_visits: int | None
    valid_from: date | None
    expires_on: date | None
    authored_on: date | None = None
    visits_per_period: VisitsPerPeriod | None = None
    body_sites: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    location_id: str | None = None
    tenant_id: str | None = None
    other_reasons: list[OtherReason] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


def validate_icd10(code: str) -> str | None:
    """The code in dotted form if it is a billable ICD-10-CM code, else None.

    Only leaf (billable) codes pass: a category such as M54.5 (split into M54.50/M54.51/M54.59
    in FY2022) is not specific enough to bill a visit against.
    """
    return icd10.billable(code)


def _date_problems(referral: Referral, today: date) -> list[str]:
    """Dates no one at the clinic can mend (an end date that was not sent is not one of them:
    the clinic's default validity applies, `review.with_clinic_defaults`)."""
    problems = []
    start, end = referral.valid_from, referral.expires_on
    if start and end and end <= start:
        problems.append(f"expires_on: {end} is not after valid_from")
    elif start and end and (end - start).days > MAX_VALIDITY_DAYS:
        problems.append(f"expires_on: validity longer than {MAX_VALIDITY_DAYS} days")
    if end and end < today:
        problems.append(f"expires_on: the referral expired on {end}")
    if referral.authored_on and referral.authored_on > today + timedelta(days=1):
        problems.append(f"authored_on: {referral.authored_on} is in the future")
    birth_date = referral.patient.birth_date
    if birth_date and birth_date > today:
        problems.append(f"patient.birth_date: {birth_date} is in the future")
    return problems


def _visit_problems(referral: Referral) -> list[str]:
    """Visits out of range (a missing total is for the clinic to settle: `review`)."""
    low, high = AUTHORIZED_VISITS_RANGE
    problems = []
    visits = referral.authorized_visits
    if visits is not None and not low <= visits <= high:
        problems.append(f"authorized_visits: must be {low}-{high}, got {visits}")
    rate = referral.visits_per_period
    if rate and (rate.visits < 1 or rate.period < 1 or rate.unit not in PERIOD_UNITS):
        units = ", ".join(PERIOD_UNITS)
        problems.append(f"visits_per_period: visits and period must be >= 1, unit one of {units}")
    return problems


def check_terms(referral: Referral, today: date) -> list[str]:
    """Every problem with the referral's terms that rejects it, each naming its field.

    What the clinic can settle with the prescriber (a billable code, the total of visits, the
    location) is not a problem here: it holds the referral for review (`review.pending_items`).
    """
    problems = []
    if referral.status not in ACCEPTED_STATUSES:
        problems.append(f"status: {referral.status!r} referrals do not authorize visits")
    if referral.priority not in PRIORITIES:
        problems.append(f"priority: {referral.priority!r} is not one of {', '.join(PRIORITIES)}")
    if not referral.requester.name:
        problems.append("requester.name: the prescriber is required")
    return [*problems, *_date_problems(referral, today), *_visit_problems(referral)]


def check_patient(referral: Referral) -> list[str]:
    """Problems with the referred patient: a clinic needs the name and birth date to treat."""
    patient = referral.patient
    required = {"given_name": patient.given_name, "family_name": patient.family_name}
    problems = [f"patient.{name}: is required" for name, value in required.items() if not value]
    if patient.birth_date is None:
        problems.append("patient.birth_date: is required")
    return problems


def npi_check_digit_ok(npi: str) -> bool:
    """The NPI's last digit is its Luhn check digit over the prefix 80840 and the first nine
    digits (CMS, "NPI check digit"): a typo fails it."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    total = 0
    for position, digit in enumerate(int(c) for c in reversed("80840" + npi)):
        doubled = digit * 2 if position % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def normalise_email(email: str) -> str:
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ContactError("email", str(exc)) from exc


def normalise_phone(phone: str, region: str = "US") -> str:
    """The number in E.164 form; numbers without a country code are read in ``region``."""
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException as exc:
        raise ContactError("phone", f"{phone!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise ContactError("phone", f"{phone!r} is not a valid phone number (region {region})")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_contact(
    email: str | None, phone: str | None, region: str = "US"
) -> tuple[str | None, str | None]:
    """Validated email and E.164 phone; raises ContactError naming the field at fault."""
    return (
        normalise_email(email) if email else None,
        normalise_phone(phone, region) if phone else None,
    )
