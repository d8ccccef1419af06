"""Read a referral from a FHIR R4 Bundle (ServiceRequest, Patient, Condition, Practitioner).

Parsing uses ``fhir.resources.R4B`` (equivalent to R4 for these resources). Every problem is
reported in ``ReferralFormError.errors`` under a path naming the field, such as
``ServiceRequest.subject`` or ``Condition[0].code``: a resource is named by its type, with an
index among its type when it can repeat (always for Condition), and a contained one by its
container (``ServiceRequest.contained[1]``). References resolve by ``fullUrl`` (``urn:uuid:...``),
by ``Type/id`` and, to a contained resource, by ``#id``.

What EHRs send is read as they send it: the visits from ``quantityQuantity`` or
``occurrenceTiming.repeat.count``, a rate from ``quantityRatio`` or the timing's
``frequency``/``period`` (a rate is never guessed into a total: the clinic settles it, see
``domain/review.py``), the validity from ``occurrencePeriod`` or the timing's ``boundsPeriod``;
the diagnoses are the ICD-10-CM codings of the reasons (``reasonCode`` and ``reasonReference`` to
Conditions), once per code, and every other reason (a SNOMED code, a text, an Observation) is kept
as an other reason. The requester is a Practitioner, or a PractitionerRole naming one; its contact
details and NPI are kept as sent even when they do not validate, with a notice. A person's
current name and address skip those marked ``old`` (or ``maiden``) and those whose period has
ended; the patient's skipped names are kept as its former names (they let a documented name
change still match).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from services.intake.domain.referral import (
    ACCEPTED_STATUSES,
    ICD10CM_SYSTEM,
    NPI_SYSTEM,
    PRIORITIES,
    STATUSES,
    Address,
    ContactError,
    Diagnosis,
    Identifier,
    Notice,
    OtherReason,
    PersonName,
    Referral,
    ReferredPatient,
    Requester,
    VisitsPerPeriod,
    normalise_email,
    normalise_phone,
    npi_check_digit_ok,
)

BUNDLE_TYPES = ("transaction", "batch", "collection", "document", "message")
INTENTS = ("proposal", "plan", "directive", "order", "original-order", "reflex-order",
           "filler-order", "instance-order", "option")  # fmt: skip
ORDER_INTENTS = ("order", "original-order", "reflex-order", "filler-order", "instance-order")
"""The intents that authorize visits (a proposal or a plan does not)."""
ALWAYS_INDEXED = {"Condition"}
HISTORIC_USES = ("old", "maiden")  # HumanName.use / Address.use values of a former one
PREFERRED_NAME_USES = ("official", "usual")
TIMING_UNITS = {"d": ("d", 1), "wk": ("wk", 1), "mo": ("mo", 1), "a": ("mo", 12)}
RATIO_UNITS = {
    "d": "d", "day": "d", "days": "d", "wk": "wk", "week": "wk", "weeks": "wk",
    "mo": "mo", "month": "mo", "months": "mo",
}  # fmt: skip
_MESSAGES = {"missing": "is required", "extra_forbidden": "is not an element of this resource"}

Found = tuple[str, Any]  # (label such as "Condition[0]", the resource)


class ReferralFormError(ValueError):
    """A referral that cannot be read; ``errors`` maps a field path to its problems."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{path}: {', '.join(m)}" for path, m in errors.items()))
        self.errors = errors


def _labels(types: list[str]) -> list[str]:
    totals, seen = Counter(types), Counter[str]()
    labels = []
    for kind in types:
        indexed = kind in ALWAYS_INDEXED or totals[kind] > 1
        labels.append(f"{kind}[{seen[kind]}]" if indexed else kind)
        seen[kind] += 1
    return labels


def _path(label: str, loc: tuple[int | str, ...]) -> str:
    return label + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def _as_date(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _ended(period: Any, today: date) -> bool:
    """A period whose end has passed; a partial end ('2002', '2002-05') covers its whole span."""
    end = period.end if period else None
    if end is None:
        return False
    if isinstance(end, str):
        return end < today.isoformat()[: len(end)]
    ended = _as_date(end)
    return ended is not None and ended < today


def _in_use(items: list[Any] | None, today: date) -> tuple[list[Any], list[Any]]:
    """(current, former) names or addresses: former ones are marked old or maiden, or ended."""
    current: list[Any] = []
    former: list[Any] = []
    for item in items or []:
        historic = item.use in HISTORIC_USES or _ended(item.period, today)
        (former if historic else current).append(item)
    return current, former


def _parts(name: Any) -> tuple[str, str]:
    return " ".join(name.given or []), name.family or ""


def _current_name(names: list[Any] | None, today: date) -> Any:
    """The current name: official, else usual, else the first (None: no current name)."""
    current, _ = _in_use(names, today)
    preferred = (n for use in PREFERRED_NAME_USES for n in current if n.use == use)
    return next(preferred, current[0] if current else None)


def _name(names: list[Any] | None, today: date) -> tuple[str, str]:
    """(given names, family name) of the current name."""
    name = _current_name(names, today)
    return _parts(name) if name else ("", "")


def _former_names(names: list[Any] | None, today: date) -> list[PersonName]:
    _, former = _in_use(names, today)
    return [PersonName(*_parts(n)) for n in former if n.family or n.given]


def _texts(concepts: list[Any] | None) -> list[str]:
    texts = [c.text or next((cd.display for cd in c.coding or []), None) for c in concepts or []]
    return [t for t in texts if t]


def _location_id(refs: list[Any] | None) -> str | None:
    kind, _, ident = ((refs[0].reference if refs else None) or "").rpartition("/")
    return ident if kind.endswith("Location") and ident else None


class _Reader:
    """Parses the bundle once, then maps it, collecting every problem under its field path."""

    def __init__(self, raw: Any, region: str, today: date) -> None:
        self.region = region
        self.today = today
        self.errors: dict[str, list[str]] = {}
        self.notices: list[Notice] = []
        self.other_reasons: list[OtherReason] = []
        self.bundle, self.labels = self._parse(raw)
        entries = list(zip(self.labels, self.bundle.entry or [], strict=True))
        self.found: list[Found] = [(label, e.resource) for label, e in entries if e.resource]
        self.index: dict[str, Found] = {
            e.fullUrl: (lab, e.resource) for lab, e in entries if e.fullUrl and e.resource
        }
        self.index |= {f"{r.get_resource_type()}/{r.id}": (lab, r) for lab, r in self.found if r.id}

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def raise_errors(self) -> None:
        if self.errors:
            raise ReferralFormError(self.errors)

    def _parse(self, raw: Any) -> tuple[Bundle, list[str]]:
        if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
            raise ReferralFormError({"Bundle.resourceType": ["a FHIR Bundle is required"]})
        if not isinstance(raw.get("entry", []), list):
            raise ReferralFormError({"Bundle.entry": ["must be a list"]})
        labels = _labels(
            [self._entry_type(i, entry) for i, entry in enumerate(raw.get("entry", []))]
        )
        self.raise_errors()
        try:
            bundle = Bundle.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                self._add_pydantic(err, labels)
        self.raise_errors()
        if bundle.type not in BUNDLE_TYPES:
            self.add("Bundle.type", f"must be one of {', '.join(BUNDLE_TYPES)}")
        self.raise_errors()
        return bundle, labels

    def _entry_type(self, i: int, entry: Any) -> str:
        """The entry's resourceType; fhir.resources fails with a bare KeyError on unknown ones."""
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(entry, dict) and resource is None and "request" in entry:
            return "-"  # a transaction's DELETE or GET: no resource, nothing to read
        if not isinstance(resource, dict):
            self.add(f"Bundle.entry[{i}].resource", "a resource is required")
            return "?"
        kind = str(resource.get("resourceType"))
        try:
            get_fhir_model_class(kind)
        except ValueError:
            self.add(f"Bundle.entry[{i}].resource.resourceType", f"unknown type {kind!r}")
        return kind

    def _add_pydantic(self, err: Any, labels: list[str]) -> None:
        loc = err["loc"]
        in_entry = len(loc) >= 3 and loc[0] == "entry" and loc[2] == "resource"
        path = _path(labels[loc[1]], loc[3:]) if in_entry else _path("Bundle", loc)
        self.add(path, _MESSAGES.get(err["type"], err["msg"].removeprefix("Value error, ")))

    def one(self, kind: str) -> Found:
        found = [f for f in self.found if f[1].get_resource_type() == kind]
        if len(found) != 1:
            raise ReferralFormError({"Bundle.entry": [f"one {kind} expected, found {len(found)}"]})
        return found[0]

    def resolve(
        self, ref: Any, kinds: tuple[str, ...], path: str, container: Found | None = None
    ) -> Found | None:
        """The resource `ref` names (in the bundle, or `#id` among the container's contained
        ones), of one of `kinds`; else None, with the problem added under `path`."""
        found, problem = self.lookup(ref, kinds, container)
        if problem:
            self.add(path, problem)
        return found

    def lookup(
        self, ref: Any, kinds: tuple[str, ...], container: Found | None = None
    ) -> tuple[Found | None, str | None]:
        """(the resource `ref` names, None) or (None, why not)."""
        target = ref.reference if ref else None
        if not target:
            return None, "is required"
        if target.startswith("#") and container is not None:
            found = self._contained(container, target[1:])
        else:
            tail = "/".join(target.split("/")[-2:])  # also matches a base URL + Type/id
            found = self.index.get(target) or self.index.get(tail)
        if found is None:
            return None, f"reference {target!r} is not in the bundle"
        if found[1].get_resource_type() not in kinds:
            return None, f"reference {target!r} must be {'|'.join(kinds)}"
        return found, None

    @staticmethod
    def _contained(container: Found, ident: str) -> Found | None:
        label, resource = container
        for i, inner in enumerate(getattr(resource, "contained", None) or []):
            if inner.id == ident:
                return f"{label}.contained[{i}]", inner
        return None

    def contact(
        self, label: str, points: list[Any] | None, system: str, kept_as: str | None = None
    ) -> str | None:
        """The best-ranked email or phone (mobile first), normalised. One that does not validate
        is a problem, or, given `kept_as` (a requester's field), kept as sent with a notice."""
        ranked = sorted(
            ((i, cp) for i, cp in enumerate(points or []) if cp.system == system and cp.value),
            key=lambda item: (item[1].use != "mobile", item[1].rank or 1000),
        )
        if not ranked:
            return None
        i, point = ranked[0]
        try:
            if system == "email":
                return normalise_email(point.value)
            return normalise_phone(point.value, self.region)
        except ContactError as exc:
            problem = str(exc).split(": ", 1)[-1]
            if kept_as is None:
                self.add(f"{label}.telecom[{i}]", str(exc))
                return None
            self.notices.append(
                Notice(kept_as, f"{label}.telecom[{i}]: {problem}; kept as sent, not used")
            )
            return point.value

    def patient(self, found: Found) -> ReferredPatient:
        label, res = found
        given, family = _name(res.name, self.today)
        if not family:
            self.add(
                f"{label}.name",
                (
                    "a family name is required in a current name "
                    "(one not marked old or maiden, its period not ended)"
                ),
            )
        spoken = sorted(res.communication or [], key=lambda c: not c.preferred)
        codings = spoken[0].language.coding if spoken else None
        addresses, _ = _in_use(res.address, self.today)
        address = addresses[0] if addresses else None
        return ReferredPatient(
            given_name=given,
            family_name=family,
            birth_date=res.birthDate,
            gender=res.gender,
            email=self.contact(label, res.telecom, "email"),
            phone=self.contact(label, res.telecom, "phone"),
            language=codings[0].code if codings else None,
            identifiers=_identifiers(res.identifier),
            address=address
            and Address(
                address.line or [], address.city, address.state, address.postalCode, address.country
            ),
            former_names=_former_names(res.name, self.today),
        )

    def requester(self, found: Found) -> Requester:
        label, res = found
        organization = None
        if res.get_resource_type() == "PractitionerRole":
            org = res.organization and self.resolve(
                res.organization, ("Organization",), f"{label}.organization", found
            )
            organization = org[1].name if org else None
            person = self.resolve(
                res.practitioner, ("Practitioner",), f"{label}.practitioner", found
            )
            label, res = person or (label, None)
        if res is None:
            return Requester(name="", organization=organization)
        npi = next((i.value for i in res.identifier or [] if i.system == NPI_SYSTEM), None)
        if npi and not npi_check_digit_ok(npi):
            message = f"{label}.identifier: NPI {npi!r} fails its check digit; kept as sent"
            self.notices.append(Notice("requester.npi", message))
        current = _current_name(res.name, self.today)
        return Requester(
            name=" ".join(filter(None, _name(res.name, self.today))),
            prefix=(current and " ".join(current.prefix or [])) or None,
            family_name=(current and current.family) or None,
            npi=npi,
            email=self.contact(label, res.telecom, "email", kept_as="requester.email"),
            phone=self.contact(label, res.telecom, "phone", kept_as="requester.phone"),
            organization=organization,
        )

    def reason(self, resource: str, concept: Any, label: str | None = None) -> list[Diagnosis]:
        """The ICD-10-CM codings of a reason (as sent: the rules decide which are billable); a
        reason without one is kept as an other reason (named by `label`, else its text)."""
        codings = [c for c in (concept.coding if concept else None) or [] if c.code]
        icd = [c for c in codings if c.system == ICD10CM_SYSTEM]
        text = label or (concept.text if concept else None)
        if icd:
            return [Diagnosis(c.code.strip(), c.display or text) for c in icd]
        first = codings[0] if codings else None
        self.other_reasons.append(
            OtherReason(
                resource,
                text or (first.display if first else None),
                first.system if first else None,
                first.code if first else None,
            )
        )
        return []

    def diagnoses(self, request: Found) -> list[Diagnosis]:
        """The reasons' ICD-10-CM codes, once per code; every other reason is kept aside."""
        _, res = request
        found: list[Diagnosis] = []
        for i, ref in enumerate(res.reasonReference or []):
            kinds = ("Condition", "Observation", "DiagnosticReport", "DocumentReference")
            target, problem = self.lookup(ref, kinds, request)
            if target is None:
                path = f"ServiceRequest.reasonReference[{i}]"
                self.notices.append(Notice("reasons", f"{path}: {problem}"))
                self.other_reasons.append(OtherReason("reference", ref.display))
            elif target[1].get_resource_type() == "Condition":
                found += self.reason("Condition", target[1].code)
            else:
                kind, code = target[1].get_resource_type(), getattr(target[1], "code", None)
                self.reason(kind, code, ref.display)
        for concept in res.reasonCode or []:
            found += self.reason("reasonCode", concept)
        merged: dict[tuple[str, str], Diagnosis] = {}
        for diagnosis in found:
            merged.setdefault((diagnosis.system, diagnosis.code.upper()), diagnosis)
        return list(merged.values())

    def visits(self, request: Any) -> int | None:
        """The total of visits: `quantityQuantity`, else the timing's `repeat.count`; None when
        only a rate (or nothing) was sent."""
        path = "ServiceRequest.quantityQuantity"
        value = request.quantityQuantity.value if request.quantityQuantity else None
        repeat = _repeat(request)
        if value is None and repeat is not None and repeat.count is not None:
            path, value = "ServiceRequest.occurrenceTiming.repeat.count", repeat.count
        if value is None:
            return None
        if value != int(value) or value < 1:
            self.add(f"{path}.value", f"{value} is not a positive whole number of visits")
        return int(value)

    def rate(self, request: Any) -> VisitsPerPeriod | None:
        """Visits per period: a `quantityRatio` (20 per month), or the timing's frequency."""
        ratio = request.quantityRatio
        if ratio and ratio.numerator and ratio.denominator and ratio.numerator.value:
            per = ratio.denominator
            unit = RATIO_UNITS.get(str(per.code or per.unit or "").lower())
            if unit and per.value and per.value == int(per.value) and ratio.numerator.value >= 1:
                return VisitsPerPeriod(int(ratio.numerator.value), int(per.value), unit)
        repeat = _repeat(request)
        if repeat is not None and repeat.frequency and repeat.period and repeat.periodUnit:
            unit_and_factor = TIMING_UNITS.get(repeat.periodUnit)
            if unit_and_factor and repeat.period == int(repeat.period):
                unit, factor = unit_and_factor
                return VisitsPerPeriod(repeat.frequency, int(repeat.period) * factor, unit)
        return None

    def check_codes(self, request: Any) -> None:
        """Codes of the ServiceRequest: known ones, and an active order (nothing else is a
        referral that authorizes visits)."""
        for name, allowed in (("status", STATUSES), ("intent", INTENTS), ("priority", PRIORITIES)):
            value = getattr(request, name)
            if value is not None and value not in allowed:
                self.add(f"ServiceRequest.{name}", f"{value!r} is not one of {', '.join(allowed)}")
        if request.status in STATUSES and request.status not in ACCEPTED_STATUSES:
            message = f"{request.status!r} referrals do not authorize visits"
            self.add("ServiceRequest.status", message)
        if request.intent in INTENTS and request.intent not in ORDER_INTENTS:
            message = f"{request.intent!r} is not an order: it authorizes nothing"
            self.add("ServiceRequest.intent", message)

    def period(self, request: Any) -> tuple[date | None, date | None]:
        """(valid_from, expires_on): the occurrencePeriod, else the timing's boundsPeriod."""
        repeat = _repeat(request)
        period = request.occurrencePeriod or (repeat.boundsPeriod if repeat else None)
        start, end = (_as_date(getattr(period, name, None)) for name in ("start", "end"))
        return start, end


def _repeat(request: Any) -> Any:
    timing = request.occurrenceTiming
    return timing.repeat if timing else None


def _identifiers(identifiers: list[Any] | None) -> list[Identifier]:
    """The patient's identifiers, once each (EHRs repeat them)."""
    unique = dict.fromkeys((i.system, i.value) for i in identifiers or [] if i.value)
    return [Identifier(value, system) for system, value in unique]


def referral_from_fhir_bundle(
    bundle: dict[str, Any],
    *,
    tenant_id: str | None = None,
    region: str = "US",
    today: date | None = None,
) -> Referral:
    """Map a FHIR R4 referral Bundle to a Referral; raises ReferralFormError with field paths.

    `today` (default: the UTC date) decides which names and addresses have ended.
    """
    reader = _Reader(bundle, region, today or datetime.now(UTC).date())
    request = reader.one("ServiceRequest")
    _, res = request
    reader.check_codes(res)
    subject = reader.resolve(res.subject, ("Patient",), "ServiceRequest.subject", request)
    requester = reader.resolve(
        res.requester, ("Practitioner", "PractitionerRole"), "ServiceRequest.requester", request
    )
    valid_from, expires_on = reader.period(res)
    referral_id = next((i.value for i in res.identifier or [] if i.value), None)
    if not referral_id:
        reader.add("ServiceRequest.identifier", "the partner's referral id is required")
    referral = Referral(
        partner_referral_id=referral_id or "",
        status=res.status,
        priority=res.priority or "routine",
        patient=reader.patient(subject) if subject else ReferredPatient("", ""),
        diagnoses=reader.diagnoses(request),
        requester=reader.requester(requester) if requester else Requester(name=""),
        authorized_visits=reader.visits(res),
        visits_per_period=reader.rate(res),
        valid_from=valid_from,
        expires_on=expires_on,
        authored_on=_as_date(res.authoredOn),
        body_sites=_texts(res.bodySite),
        notes=[n.text for n in res.note or [] if n.text],
        location_id=_location_id(res.locationReference),
        tenant_id=tenant_id,
        other_reasons=reader.other_reasons,
        notices=reader.notices,
    )
    reader.raise_errors()
    return referral
