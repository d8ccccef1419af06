"""What the patient's chart shows, from intake's summary (the record, referrals, intakes),
planning's plans of the patient (with sessions, notes and measures as the role may read them)
and notifications' delivery log: demographics, consent per channel, each intake's screening,
plans, sessions, notes, outcome measures and messages sent, every time in its location's zone.
Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.console.domain.inbox import STATUS_LABELS
from services.console.domain.patient_search import full_name
from services.console.domain.places import Place, place_of, zone_for
from services.console.domain.precautions import Precautions, latest_precautions, precautions_of
from services.console.domain.times import on_day, when

GENDERS = {"male": "Male", "female": "Female", "other": "Other", "unknown": "Unknown"}
CONSENT_SOURCES = {"referral": "the referral", "intake": "the intake form", "staff": "staff"}
PLAN_STATUSES = {
    "draft": "Draft",
    "held": "Held for a physician's clearance",
    "cannot_plan": "Cannot be planned",
    "active": "Active",
    "completed": "Completed",
    "discontinued": "Discontinued",
}
SOAP = (("subjective", "S"), ("objective", "O"), ("assessment", "A"), ("plan", "P"))


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class ReferralLine:
    referral_id: str
    partner_referral_id: str
    status: str
    diagnoses: str
    location: str
    received: str
    valid_until: str
    intake_done: bool


@dataclass(frozen=True)
class IntakeView:
    intake_id: str
    referral_id: str
    location: str
    completed: str
    completed_by: str
    precautions: Precautions | None
    clearances: tuple[str, ...]


@dataclass(frozen=True)
class SessionLine:
    session_id: str
    starts: str
    status: str
    minutes: int | None
    notes: tuple[tuple[str, str], ...] = ()
    techniques: str = ""
    areas: str = ""
    pressure: str = ""
    measurements: str = ""


@dataclass(frozen=True)
class PlanView:
    plan_id: str
    status: str
    location: str
    created: str
    visits: str
    goals: tuple[str, ...]
    techniques: str
    precautions: tuple[str, ...]
    sessions: tuple[SessionLine, ...]
    measures: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class MessageLine:
    when: str
    channel: str
    template: str
    status: str
    reason: str


@dataclass(frozen=True)
class Chart:
    patient_id: str
    name: str
    precautions: Precautions | None
    demographics: tuple[Fact, ...]
    consent: tuple[Fact, ...]
    referrals: tuple[ReferralLine, ...]
    intakes: tuple[IntakeView, ...]
    plans: tuple[PlanView, ...]
    messages: tuple[MessageLine, ...]
    messages_total: int
    to_intake: tuple[ReferralLine, ...] = field(default=())
    """Accepted referrals without an intake: what an intake can be recorded for."""


def _yes(value: Any) -> str:
    return "Yes" if value else "No"


def address_text(address: Mapping[str, Any] | None) -> str:
    if not address:
        return ""
    city = " ".join(str(p) for p in (address.get("state"), address.get("postal_code")) if p)
    parts = [*(address.get("lines") or []), address.get("city"), city, address.get("country")]
    return ", ".join(str(p) for p in parts if p)


def demographics(patient: Mapping[str, Any], places: Sequence[Place]) -> tuple[Fact, ...]:
    ids = [
        f"{i.get('value')} ({i.get('system') or 'no system'})"
        for i in patient.get("identifiers") or []
        if i.get("value")
    ]
    former = [full_name(n) for n in patient.get("former_names") or []]
    located = [place_of(places, loc) for loc in patient.get("location_ids") or []]
    facts = [
        ("Born", on_day(patient.get("birth_date"))),
        ("Gender", GENDERS.get(patient.get("gender") or "", patient.get("gender") or "")),
        ("Language", patient.get("language") or ""),
        ("Email", patient.get("email") or ""),
        ("Phone", patient.get("phone") or ""),
        ("Address", address_text(patient.get("address"))),
        ("Identifiers", "; ".join(ids)),
        ("Former names", ", ".join(former)),
        ("Locations", ", ".join(p.name for p in located if p is not None)),
    ]
    return tuple(Fact(label, str(value)) for label, value in facts if value)


def consent(patient: Mapping[str, Any], zone_places: Sequence[Place]) -> tuple[Fact, ...]:
    given = patient.get("consent") or {}
    zone = zone_for(zone_places, patient.get("location_id"))
    facts = [Fact("Email OK", _yes(given.get("email"))), Fact("Text OK", _yes(given.get("sms")))]
    if given.get("source"):
        said = CONSENT_SOURCES.get(given["source"], given["source"])
        facts.append(Fact("Recorded", f"from {said}, {when(given.get('updated_at'), zone)}"))
    if patient.get("language"):
        facts.append(Fact("Messages in", str(patient["language"])))
    return tuple(facts)


def referral_line(
    referral: Mapping[str, Any], places: Sequence[Place], with_intake: set[str]
) -> ReferralLine:
    terms = referral.get("terms") or {}
    location = place_of(places, referral.get("location_id"))
    codes = [
        f"{d.get('code')} {d.get('display') or ''}".strip() for d in terms.get("diagnoses") or []
    ]
    return ReferralLine(
        referral_id=referral["referral_id"],
        partner_referral_id=str(referral.get("partner_referral_id") or ""),
        status=STATUS_LABELS.get(referral.get("status", ""), referral.get("status", "")),
        diagnoses="; ".join(codes),
        location=location.name if location else "",
        received=when(referral.get("received_at"), zone_for(places, referral.get("location_id"))),
        valid_until=on_day(terms.get("expires_on")),
        intake_done=referral["referral_id"] in with_intake,
    )


def clearance_text(clearance: Mapping[str, Any], zone_places: Sequence[Place], loc: str) -> str:
    at = when(clearance.get("at"), zone_for(zone_places, loc))
    rules = ", ".join(clearance.get("rule_ids") or [])
    return f"{rules} cleared by {clearance.get('by')} on {at}: {clearance.get('note') or ''}"


def intake_view(intake: Mapping[str, Any], places: Sequence[Place]) -> IntakeView:
    loc = intake.get("location_id")
    location = place_of(places, loc)
    by = "the patient (web form)" if intake.get("completed_by") == "patient" else "staff"
    return IntakeView(
        intake_id=intake["intake_id"],
        referral_id=str(intake.get("referral_id") or ""),
        location=location.name if location else "",
        completed=when(intake.get("completed_at"), zone_for(places, loc)),
        completed_by=by,
        precautions=precautions_of(intake.get("screening")),
        clearances=tuple(clearance_text(c, places, loc) for c in intake.get("clearances") or []),
    )


def session_line(session: Mapping[str, Any], places: Sequence[Place]) -> SessionLine:
    zone = zone_for(places, session.get("location_id"))
    record = session.get("record") or {}
    soap = record.get("soap") or {}
    measured = [
        f"{m.get('measure')} {m.get('score'):g}"
        for m in session.get("measurements") or []
        if m.get("score") is not None
    ]
    return SessionLine(
        session_id=str(session.get("session_id")),
        starts=when(session.get("starts_at"), zone),
        status=str(session.get("status") or "").replace("_", " "),
        minutes=session.get("duration_minutes"),
        notes=tuple((letter, str(soap[key])) for key, letter in SOAP if soap.get(key)),
        techniques=", ".join(record.get("techniques") or []),
        areas=", ".join(record.get("areas") or []),
        pressure=str(record.get("pressure") or ""),
        measurements=", ".join(measured),
    )


def plan_view(plan: Mapping[str, Any], places: Sequence[Place]) -> PlanView:
    content = plan.get("content") or {}
    visits = plan.get("visits") or {}
    location = place_of(places, plan.get("location_id"))
    goals = tuple(
        f"{g.get('measure')}: from {g.get('baseline')} to {g.get('target')} by "
        f"{on_day(g.get('due_on'))}"
        for g in content.get("goals") or []
    )
    counted = (
        f"{visits.get('used', 0)} of {visits.get('authorized')} visits used"
        if visits.get("authorized") is not None
        else ""
    )
    return PlanView(
        plan_id=plan["plan_id"],
        status=PLAN_STATUSES.get(plan.get("status", ""), plan.get("status", "")),
        location=location.name if location else "",
        created=when(plan.get("created_at"), zone_for(places, plan.get("location_id"))),
        visits=counted,
        goals=goals,
        techniques=", ".join(
            t.get("name") or t.get("code") for t in content.get("techniques") or []
        ),
        precautions=tuple(content.get("precautions") or ()),
        sessions=tuple(session_line(s, places) for s in plan.get("sessions") or []),
        measures=tuple(plan.get("measures") or ()),
    )


def message_line(delivery: Mapping[str, Any], places: Sequence[Place]) -> MessageLine:
    moment = delivery.get("sent_at") or delivery.get("send_at") or delivery.get("created_at")
    return MessageLine(
        when=when(moment, zone_for(places, delivery.get("location_id"))),
        channel={"email": "Email", "sms": "Text"}.get(delivery.get("channel", ""), "") or "",
        template=str(delivery.get("template") or "").replace("_", " "),
        status=str(delivery.get("status") or "").replace("_", " "),
        reason=str(delivery.get("reason") or ""),
    )


def chart(
    summary: Mapping[str, Any],
    plans: Iterable[Mapping[str, Any]],
    deliveries: Mapping[str, Any],
    places: Sequence[Place],
) -> Chart:
    patient = summary["patient"]
    intakes = list(summary.get("intakes") or [])
    with_intake = {str(i.get("referral_id")) for i in intakes}
    referrals = tuple(referral_line(r, places, with_intake) for r in summary.get("referrals") or [])
    open_referrals = {
        r["referral_id"] for r in summary.get("referrals") or [] if r.get("status") == "accepted"
    }
    return Chart(
        patient_id=patient["patient_id"],
        name=full_name(patient),
        precautions=latest_precautions(intakes),
        demographics=demographics(patient, places),
        consent=consent(patient, places),
        referrals=referrals,
        intakes=tuple(intake_view(i, places) for i in intakes),
        plans=tuple(plan_view(p, places) for p in plans),
        messages=tuple(message_line(d, places) for d in deliveries.get("items") or []),
        messages_total=int(deliveries.get("total") or 0),
        to_intake=tuple(
            r for r in referrals if r.referral_id in open_referrals and not r.intake_done
        ),
    )
