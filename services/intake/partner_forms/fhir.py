"""Read a referral from a FHIR R4 Bundle (ServiceRequest, Patient, Condition, Practitioner).

Parsing uses ``fhir.resources.R4B`` (equivalent to R4 for these resources). Every problem is
reported in ``ReferralFormError.errors`` under a path naming the field, such as
``ServiceRequest.subject`` or ``Condition[0].code``: a resource is named by its type, with an
index among its type when it can repeat (always for Condition). References resolve by
``fullUrl`` (``urn:uuid:...``) or by ``Type/id``. Authorized visits must be a
``quantityQuantity`` (a ``quantityRatio`` is refused rather than guessed into a total); the
requester is a Practitioner, or a PractitionerRole naming one. A person's current name and
address skip those marked ``old`` (or ``maiden``) and those whose period has ended; the patient's
skipped names are kept as its former names (they let a documented name change still match).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from services.intake.domain.referral import (
    ICD10CM_SYSTEM,
    NPI_SYSTEM,
    PRIORITIES,
    STATUSES,
    Address,
    ContactError,
    Diagnosis,
    Identifier,
    PersonName,
    Referral,
    ReferredPatient,
    Requester,
    normalise_email,
    normalise_phone,
    validate_icd10,
)

BUNDLE_TYPES = ("transaction", "batch", "collection", "document", "message")
INTENTS = ("proposal", "plan", "directive", "order", "original-order", "reflex-order",
           "filler-order", "instance-order", "option")  # fmt: skip
ALWAYS_INDEXED = {"Condition"}
HISTORIC_USES = ("old", "maiden")  # HumanName.use / Address.use values of a former one
PREFERRED_NAME_USES = ("official", "usual")
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
        self.bundle, self.labels = self._parse(raw)
        entries = list(zip(self.labels, self.bundle.entry or [], strict=True))
        self.found: list[Found] = [(label, e.resource) for label, e in entries]
        self.index: dict[str, Found] = {
            e.fullUrl: (lab, e.resource) for lab, e in entries if e.fullUrl
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

    def resolve(self, ref: Any, kinds: tuple[str, ...], path: str) -> Found | None:
        target = ref.reference if ref else None
        tail = "/".join((target or "").split("/")[-2:])  # also matches a base URL + Type/id
        found = self.index.get(target or "") or self.index.get(tail)
        if target and found and found[1].get_resource_type() in kinds:
            return found
        problem = "is not in the bundle" if target and not found else f"must be {'|'.join(kinds)}"
        self.add(path, f"reference {target!r} {problem}" if target else "is required")
        return None

    def contact(self, label: str, points: list[Any] | None, system: str) -> str | None:
        """The best-ranked email or phone (mobile first), normalised."""
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
            self.add(f"{label}.telecom[{i}]", str(exc))
            return None

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
            identifiers=[Identifier(i.value, i.system) for i in res.identifier or [] if i.value],
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
                res.organization, ("Organization",), f"{label}.organization"
            )
            organization = org[1].name if org else None
            person = self.resolve(res.practitioner, ("Practitioner",), f"{label}.practitioner")
            label, res = person or (label, None)
        if res is None:
            return Requester(name="", organization=organization)
        current = _current_name(res.name, self.today)
        return Requester(
            name=" ".join(filter(None, _name(res.name, self.today))),
            prefix=(current and " ".join(current.prefix or [])) or None,
            family_name=(current and current.family) or None,
            npi=next((i.value for i in res.identifier or [] if i.system == NPI_SYSTEM), None),
            email=self.contact(label, res.telecom, "email"),
            phone=self.contact(label, res.telecom, "phone"),
            organization=organization,
        )

    def diagnosis(self, path: str, concept: Any) -> Diagnosis | None:
        codings = [c for c in (concept.coding if concept else None) or [] if c.code]
        coding = next((c for c in codings if c.system == ICD10CM_SYSTEM), None)
        code = validate_icd10(coding.code) if coding else None
        if coding is None:
            self.add(path, f"an ICD-10-CM coding ({ICD10CM_SYSTEM}) is required")
        elif code is None:
            self.add(path, f"{coding.code!r} is not a billable ICD-10-CM code")
        return Diagnosis(code, coding.display or concept.text) if coding and code else None

    def diagnoses(self, request: Any) -> list[Diagnosis]:
        found = []
        for i, ref in enumerate(request.reasonReference or []):
            condition = self.resolve(ref, ("Condition",), f"ServiceRequest.reasonReference[{i}]")
            found.append(condition and self.diagnosis(f"{condition[0]}.code", condition[1].code))
        for i, concept in enumerate(request.reasonCode or []):
            found.append(self.diagnosis(f"ServiceRequest.reasonCode[{i}]", concept))
        if not found:
            self.add("ServiceRequest.reasonReference", "at least one diagnosis is required")
        return [d for d in found if d]

    def visits(self, request: Any) -> int:
        path = "ServiceRequest.quantityQuantity"
        value = request.quantityQuantity.value if request.quantityQuantity else None
        if request.quantityRatio or value is None:
            self.add(path, "the number of authorized visits is required (not a quantityRatio)")
        elif value != int(value) or value < 1:
            self.add(f"{path}.value", f"{value} is not a positive whole number of visits")
        return int(value or 0)

    def check_codes(self, request: Any) -> None:
        for name, allowed in (("status", STATUSES), ("intent", INTENTS), ("priority", PRIORITIES)):
            value = getattr(request, name)
            if value is not None and value not in allowed:
                self.add(f"ServiceRequest.{name}", f"{value!r} is not one of {', '.join(allowed)}")

    def period(self, request: Any) -> tuple[date, date]:
        """(valid_from, expires_on): the occurrencePeriod's start and end, both required."""
        period = request.occurrencePeriod
        bounds = [_as_date(getattr(period, name, None)) for name in ("start", "end")]
        for name, value in zip(("start", "end"), bounds, strict=True):
            if value is None:
                self.add(f"ServiceRequest.occurrencePeriod.{name}", "is required")
        return bounds[0] or date.min, bounds[1] or date.min


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
    _, request = reader.one("ServiceRequest")
    reader.check_codes(request)
    subject = reader.resolve(request.subject, ("Patient",), "ServiceRequest.subject")
    requester = reader.resolve(
        request.requester, ("Practitioner", "PractitionerRole"), "ServiceRequest.requester"
    )
    valid_from, expires_on = reader.period(request)
    referral_id = next((i.value for i in request.identifier or [] if i.value), None)
    if not referral_id:
        reader.add("ServiceRequest.identifier", "the partner's referral id is required")
    referral = Referral(
        partner_referral_id=referral_id or "",
        status=request.status,
        priority=request.priority or "routine",
        patient=reader.patient(subject) if subject else ReferredPatient("", ""),
        diagnoses=reader.diagnoses(request),
        requester=reader.requester(requester) if requester else Requester(name=""),
        authorized_visits=reader.visits(request),
        valid_from=valid_from,
        expires_on=expires_on,
        authored_on=_as_date(request.authoredOn),
        body_sites=_texts(request.bodySite),
        notes=[n.text for n in request.note or [] if n.text],
        location_id=_location_id(request.locationReference),
        tenant_id=tenant_id,
    )
    reader.raise_errors()
    return referral
