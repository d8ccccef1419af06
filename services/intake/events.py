"""Every event intake emits: to its own exchange (`intake.events`) and, for partners, to `partner.status`.

Each builder makes the event of one type from stored state (docs/events.md lists their data;
`shared/events/payloads/intake.py` holds their schemas). Partner status events are routed
`<partner_id>.<type>`, so each partner's queue (bound with `<partner_id>.#`) receives only its
own. Every partner status goes through `partner_status` (the seam where the partner's status
format is chosen: `STATUS_WRITERS`, keyed by `domain/partner_settings.STATUS_FORMATS`): the
native one carries what the partner sent, never more (`partner_referral_id, referral_id, status,
reasons, pending, notices, version, answers`), the FHIR one the referral's whole R4 Task as it
stands (`domain/fhir_task.py`); each names the partner message it answers (`answers` in native
data, and the AMQP `correlation_id` in both). After acceptance the partner hears the milestones
of care it is owed as the referrer (`referral_milestone`: the plan of care, progress reports,
the discharge); they answer no message of their own, so they name the referral's latest one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.intake.domain import fhir_task, intake_link
from services.intake.domain import milestones as ms
from services.intake.domain.fhir_task import TaskContext
from services.intake.domain.partner_settings import FHIR, NATIVE
from services.intake.domain.patient import consent_of, contact_of
from services.intake.domain.refusals import UNKNOWN_TENANT, Refusal
from shared.config import Settings
from shared.events import Event, new_event, outbox
from shared.events.outbox import Outgoing
from shared.events.topology import PARTNER_STATUS_EXCHANGE

SOURCE = "clinic/intake"
SERVICE = "intake"
FHIR_JSON = "application/fhir+json"

Doc = Mapping[str, Any]
Answers = Mapping[str, str | None]
"""`{id, source}` of the partner message a status answers (the CloudEvent's; docs/partners.md)."""


def internal(type: str, tenant_id: str, data: dict[str, Any], subject: str | None) -> Outgoing:
    event = new_event(type, source=SOURCE, tenant_id=tenant_id, data=data, subject=subject)
    return outbox.to_exchange_of(SERVICE, event)


# --- clinics and their keys (replicated by planning and notifications: shared/replicas.py) ----


def location_upserted(tenant_id: str, location: Doc) -> Outgoing:
    """The location as the other services keep it: its zone, and its rooms (a booking names one)."""
    fields = ("location_id", "name", "timezone", "address", "version")
    data = {"tenant_id": tenant_id, **{k: location.get(k) for k in fields}}
    data["rooms"] = [
        {"room_id": r["room_id"], "name": r["name"]} for r in location.get("rooms") or []
    ]
    return internal("tenant.location_upserted", tenant_id, data, location["location_id"])


def principal_upserted(principal: Doc) -> Outgoing:
    fields = ("key_id", "tenant_id", "role", "name", "locations", "partner_id", "version")
    data = {"key_hash": principal["_id"], **{k: principal.get(k) for k in fields}}
    return internal("access.principal_upserted", principal["tenant_id"], data, principal["key_id"])


def principal_revoked(principal: Doc) -> Outgoing:
    """The key revoked at its next version (`principal` as it stood before)."""
    data = {
        "key_hash": principal["_id"],
        "key_id": principal["key_id"],
        "tenant_id": principal["tenant_id"],
        "version": principal["version"] + 1,
    }
    return internal("access.principal_revoked", principal["tenant_id"], data, principal["key_id"])


# --- staff users and their sessions (revocations replicated: shared/replicas.py) -------------


def user_updated(user: Doc) -> Outgoing:
    """The user's access as it now stands (`user` after the change, at its new version)."""
    fields = ("tenant_id", "status", "role", "locations", "version")
    data = {"user_id": user["_id"], **{k: user.get(k) for k in fields}}
    return internal("access.user_updated", user["tenant_id"], data, user["_id"])


def session_ended(session: Doc, reason: str) -> Outgoing:
    """Every token of the session is refused until its absolute end (when they all expire)."""
    data = {
        "tenant_id": session["tenant_id"],
        "user_id": session["user_id"],
        "staff_session_id": session["_id"],
        "reason": reason,
        "expires_at": session["ends_at"].isoformat(),
    }
    return internal("access.session_ended", session["tenant_id"], data, session["user_id"])


def account_link(type: str, user: Doc, tenant_name: str, link: str, expires_at: Any) -> Outgoing:
    """`user.invited` or `user.password_reset_requested`: the link, for the user's email only."""
    data = {
        "user_id": user["_id"],
        "name": user["name"],
        "email": user["email"],
        "tenant_name": tenant_name,
        "link": link,
        "expires_at": expires_at.isoformat(),
    }
    return internal(type, user["tenant_id"], data, user["_id"])


# --- patients ---------------------------------------------------------------------------------


def patient_registered(patient: Doc) -> Outgoing:
    data = {
        "patient_id": patient["_id"],
        "location_id": patient["location_id"],
        "contact": contact_of(patient),
        "consent": consent_of(patient),
    }
    return internal("patient.registered", patient["tenant_id"], data, patient["_id"])


def patient_consent_changed(patient: Doc, consent: Mapping[str, bool]) -> Outgoing:
    data = {"patient_id": patient["_id"], "consent": dict(consent)}
    return internal("patient.consent_changed", patient["tenant_id"], data, patient["_id"])


# --- referrals --------------------------------------------------------------------------------


REFERRER_FIELDS = ("name", "email", "phone", "organization", "prefix", "family_name")


def referrer_of(terms: Doc) -> dict[str, Any]:
    """The prescriber as the referral names them (`prefix`, `family_name`: "Dr. Chen" in letters),
    without a contact detail kept as sent that did not validate (noticed): nobody is written to
    at an address that is not one."""
    requester = terms.get("requester") or {}
    unusable = {n["field"].removeprefix("requester.") for n in terms.get("notices", [])}
    return {k: None if k in unusable else requester.get(k) for k in REFERRER_FIELDS}


def letter_referrer_of(terms: Doc) -> dict[str, Any]:
    """Whom a letter about the referral goes to, and how it greets them."""
    return {k: referrer_of(terms)[k] for k in ("name", "email", "prefix", "family_name")}


def diagnoses_of(terms: Doc) -> list[dict[str, Any]]:
    return [{"code": d["code"], "display": d.get("display")} for d in terms.get("diagnoses", [])]


def _terms_data(
    referral: Doc, patient: Doc, settings: Settings, context: TaskContext | None
) -> dict[str, Any]:
    """The referral's terms, referrer, patient (and birth date, for the referrer's letters), the
    clinic's name and the intake link."""
    terms = referral["terms"]
    return {
        "referral_id": referral["_id"],
        "partner_id": referral.get("partner_id"),
        "partner_referral_id": referral["partner_referral_id"],
        "patient_id": referral["patient_id"],
        "location_id": referral["location_id"],
        "priority": terms["priority"],
        "diagnoses": diagnoses_of(terms),
        "authorized_visits": terms["authorized_visits"],
        "valid_from": terms["valid_from"],
        "expires_on": terms["expires_on"],
        "body_sites": terms.get("body_sites", []),
        "referrer": referrer_of(terms),
        "patient": {**contact_of(patient), "birth_date": patient.get("birth_date")},
        "consent": consent_of(patient),
        "clinic_name": _clinic_name(context),
        "intake_link": intake_link.link_for(
            settings, referral["_id"], referral["intake_link_nonce"]
        ),
        "version": referral["version"],
    }


def referral_accepted(
    referral: Doc,
    patient: Doc,
    settings: Settings,
    status_format: str = NATIVE,
    context: TaskContext | None = None,
) -> list[Outgoing]:
    """`referral.accepted` to the partner if any, and inside.

    The partner's status goes first: its queue is declared for every known partner, so it is
    always routable, and it does not wait behind an internal event nobody consumes yet.
    """
    data = _terms_data(referral, patient, settings, context)
    inside = internal("referral.accepted", referral["tenant_id"], data, referral["_id"])
    return [*_to_partner(referral, "referral.accepted", status_format, context), inside]


def referral_amended(
    referral: Doc,
    patient: Doc,
    settings: Settings,
    status_format: str = NATIVE,
    context: TaskContext | None = None,
) -> list[Outgoing]:
    """`referral.accepted` (again, with the new version) to the partner, `referral.amended` inside."""
    data = _terms_data(referral, patient, settings, context)
    inside = internal("referral.amended", referral["tenant_id"], data, referral["_id"])
    return [*_to_partner(referral, "referral.accepted", status_format, context), inside]


def referral_held(
    referral: Doc, status_format: str = NATIVE, context: TaskContext | None = None
) -> list[Outgoing]:
    """`referral.received` to the partner, naming what is pending: nothing happens inside yet."""
    return _to_partner(referral, "referral.received", status_format, context)


def referral_cancelled(
    referral: Doc,
    reason: str,
    status_format: str = NATIVE,
    answers: Answers | None = None,
    context: TaskContext | None = None,
) -> list[Outgoing]:
    """`referral.cancelled` to the partner (answering `answers`, else the referral's message),
    and inside when the referral was ever accepted (a held one reached nobody inside)."""
    to_partner = _to_partner(referral, "referral.cancelled", status_format, context, answers)
    if referral.get("patient_id") is None:
        return to_partner
    data = {
        "referral_id": referral["_id"],
        "partner_id": referral.get("partner_id"),
        "partner_referral_id": referral["partner_referral_id"],
        "patient_id": referral["patient_id"],
        "reason": reason,
    }
    inside = internal("referral.cancelled", referral["tenant_id"], data, referral["_id"])
    return [*to_partner, inside]


def referral_declined(
    referral: Doc, reason: str, status_format: str = NATIVE, context: TaskContext | None = None
) -> list[Outgoing]:
    """A held referral the clinic declined: `referral.rejected` to the partner and inside (with
    the patient's name and birth date, for the referrer's letter)."""
    reasons = [{"field": "review", "message": reason}]
    to_partner = _to_partner(referral, "referral.rejected", status_format, context, reasons=reasons)
    if not referral.get("partner_id"):
        return to_partner
    terms = referral["terms"]
    patient = terms.get("patient") or {}
    data = {
        "partner_id": referral["partner_id"],
        "partner_referral_id": referral["partner_referral_id"],
        "reasons": reasons,
        "referrer": letter_referrer_of(terms),
        "patient": {k: patient.get(k) for k in ("given_name", "family_name", "birth_date")},
        "clinic_name": _clinic_name(context),
    }
    inside = internal("referral.rejected", referral["tenant_id"], data, referral["_id"])
    return [*to_partner, inside]


def referral_rejected(
    refusal: Refusal, status_format: str = NATIVE, context: TaskContext | None = None
) -> list[Outgoing]:
    """`referral.rejected` to a known partner; inside too when it may refer to the clinic (with
    the patient's name and birth date when they could be read, for the referrer's letter)."""
    if refusal.partner_id is None:
        return []
    tenant_id = refusal.tenant_id or UNKNOWN_TENANT
    status = partner_status(
        PartnerStatus(
            partner_id=refusal.partner_id,
            tenant_id=tenant_id,
            type="referral.rejected",
            partner_referral_id=refusal.partner_referral_id,
            referral_id=refusal.referral_id,
            answers=refusal.answers,
            reasons=refusal.reasons,
            refusal_id=refusal.refusal_id,
            context=context,
        ),
        status_format,
    )
    if not refusal.tenant_allowed:
        return [status]
    data = {
        "partner_id": refusal.partner_id,
        "partner_referral_id": refusal.partner_referral_id,
        "reasons": [dict(r) for r in refusal.reasons],
        "referrer": refusal.referrer,
        "patient": refusal.patient,
        "clinic_name": _clinic_name(context),
    }
    return [status, internal("referral.rejected", tenant_id, data, refusal.referral_id)]


def referral_milestone(
    referral: Doc, milestone: Doc, status_format: str, context: TaskContext
) -> Outgoing:
    """The partner's status event of one milestone of care (`referral` as stored with it):
    `referral.plan_approved`, `.progress_reported` or `.discharged`, native data or the Task.

    A milestone answers no partner message: it names the one the referral stands on (its kept
    `answers`: the latest partner message about it), as every later status does.
    """
    [status] = _to_partner(
        referral, ms.STATUS_TYPE[milestone["kind"]], status_format, context, milestone=milestone
    )
    return status


def _clinic_name(context: TaskContext | None) -> str | None:
    return context.clinic_name if context else None


def _to_partner(
    referral: Doc,
    type: str,
    status_format: str,
    context: TaskContext | None,
    answers: Answers | None = None,
    reasons: Sequence[Mapping[str, str]] = (),
    milestone: Doc | None = None,
) -> list[Outgoing]:
    if not referral.get("partner_id"):
        return []
    status = PartnerStatus(
        partner_id=referral["partner_id"],
        tenant_id=referral["tenant_id"],
        type=type,
        partner_referral_id=referral["partner_referral_id"],
        referral_id=referral["_id"],
        answers=answers if answers is not None else referral.get("answers"),
        version=referral["version"],
        reasons=reasons,
        pending=referral.get("pending") or (),
        notices=(referral.get("terms") or {}).get("notices", ()),
        referral=referral,
        milestone=milestone,
        context=context,
    )
    return [partner_status(status, status_format)]


# --- partners' status events: one seam, where a partner's status format is chosen -------------


@dataclass(frozen=True)
class PartnerStatus:
    """What one partner hears about one of its referrals, before it is written in a format.

    `type` is the milestone (`referral.received`, `.accepted`, `.rejected`, `.cancelled`, and
    after acceptance the milestones of care `referral.plan_approved`, `.progress_reported`,
    `.discharged`, whose `milestone` is the one kept on the referral); `answers` the partner
    message it answers (None: none, e.g. an HTTP submission sent without an Idempotency-Key);
    `referral` the stored referral, for formats that carry more of it (None for a refusal:
    `refusal_id` names it); `context` the clinic that speaks, which the FHIR Task names.
    """

    partner_id: str
    tenant_id: str
    type: str
    partner_referral_id: str | None
    referral_id: str | None
    answers: Answers | None
    version: int | None = None
    reasons: Sequence[Mapping[str, str]] = ()
    pending: Sequence[Mapping[str, Any]] = ()
    notices: Sequence[Mapping[str, str]] = ()
    referral: Doc | None = None
    milestone: Doc | None = None
    refusal_id: str | None = None
    context: TaskContext | None = None


def native_status(status: PartnerStatus) -> Event:
    """The native status event (docs/partners.md, "Receiving status"): what the partner sent,
    the clinic's id and version, and what is wrong, pending or noticed; no clinical detail."""
    data: dict[str, Any] = {
        "partner_referral_id": status.partner_referral_id,
        "referral_id": status.referral_id,
        "status": status.type.removeprefix("referral."),
        "reasons": [dict(r) for r in status.reasons],
        "pending": [{"item": p["item"], "message": p["message"]} for p in status.pending],
        "notices": [{"field": n["field"], "message": n["message"]} for n in status.notices],
        "version": status.version,
        "answers": _answers(status.answers),
    }
    if status.milestone is not None:
        data |= _native_milestone(status.referral or {}, status.milestone)
    return new_event(
        status.type,
        source=SOURCE,
        tenant_id=status.tenant_id,
        data=data,
        subject=status.referral_id,
    )


def _native_milestone(referral: Doc, milestone: Doc) -> dict[str, Any]:
    """Where care stands (`status`: in_progress, completed or discontinued, from every milestone
    kept), when, and the milestone's part: `plan`, `progress` or `discharge`."""
    data: dict[str, Any] = {
        "status": ms.care_status(referral.get("milestones") or [milestone]),
        "occurred_at": milestone["at"],
    }
    measured = {k: milestone.get(k) for k in ("sessions_completed", "measures")}
    match milestone["kind"]:
        case ms.PLAN_APPROVED:
            data["plan"] = dict(milestone["plan"])
        case ms.PROGRESS_REPORTED:
            data["progress"] = measured
        case ms.DISCHARGED:
            data["discharge"] = {
                "outcome": milestone["outcome"],
                "reason": milestone["reason"],
                **measured,
            }
    return data


def fhir_status(status: PartnerStatus) -> Event:
    """The FHIR status event: the referral's whole R4 Task as it now stands (`fhir_task`), or,
    for a message nothing was stored of, a rejected Task of its own (`application/fhir+json`).

    `statusReason` says what the Task waits for (the pending items, while held) or why it
    ended (the clinic's reasons for a rejection); otherwise what the stored state says.
    """
    if status.context is None:
        raise ValueError(f"a FHIR status needs the clinic's TaskContext ({status.type})")
    if status.referral is None:
        task = fhir_task.refusal_task(
            status.refusal_id or "", status.partner_referral_id, status.reasons, status.context
        )
    else:
        task = fhir_task.referral_task(status.referral, status.context, reason=_why(status))
    return new_event(
        status.type,
        source=SOURCE,
        tenant_id=status.tenant_id,
        data=task,
        subject=status.referral_id,
        datacontenttype=FHIR_JSON,
    )


def _why(status: PartnerStatus) -> str | None:
    """What is pending (`item: message`), else the reasons (`field: message`), as `refusal_task`
    writes them; None: the Task's own state says why."""
    if status.type == "referral.received":
        return "; ".join(f"{p['item']}: {p['message']}" for p in status.pending) or None
    return "; ".join(f"{r['field']}: {r['message']}" for r in status.reasons) or None


STATUS_WRITERS: dict[str, Callable[[PartnerStatus], Event]] = {
    NATIVE: native_status,
    FHIR: fhir_status,
}
"""A partner's status format (`domain/partner_settings.py`) -> the writer of its status events."""


def partner_status(status: PartnerStatus, status_format: str = NATIVE) -> Outgoing:
    """The status in the partner's format, routed `<partner_id>.<type>` to its queue only, with
    the AMQP `correlation_id` set to the id of the message it answers."""
    event = STATUS_WRITERS[status_format](status)
    answered = (status.answers or {}).get("id")
    properties = {"correlation_id": answered} if answered else {}
    routing_key = status_routing_key(status.partner_id, event.type)
    return Outgoing(event, PARTNER_STATUS_EXCHANGE, routing_key, properties)


def _answers(answers: Answers | None) -> dict[str, str | None] | None:
    return None if answers is None else {"id": answers.get("id"), "source": answers.get("source")}


def status_routing_key(partner_id: str, type: str) -> str:
    return f"{partner_id}.{type}"


# --- intakes ----------------------------------------------------------------------------------


def _screening_data(stored: Doc) -> dict[str, Any]:
    reasons = [{k: r[k] for k in ("rule_id", "tier", "label", "detail")} for r in stored["reasons"]]
    lists = ("excluded_areas", "modifications", "requires_clearance_for")
    return {"outcome": stored["outcome"], "reasons": reasons, **{k: stored[k] for k in lists}}


def _intake_data(intake: Doc) -> dict[str, Any]:
    terms = intake["referral_terms"]
    return {
        "intake_id": intake["_id"],
        "referral_id": intake["referral_id"],
        "patient_id": intake["patient_id"],
        "location_id": intake["location_id"],
        "completed_by": intake["completed_by"],
        "screening": _screening_data(intake["screening"]),
        "baseline": [{"measure": b["measure"], "score": b["score"]} for b in intake["baseline"]],
        "referral": {
            "authorized_visits": terms["authorized_visits"],
            "valid_from": terms["valid_from"],
            "expires_on": terms["expires_on"],
            "diagnoses": diagnoses_of(terms),
            "body_sites": terms.get("body_sites", []),
            "referrer": {k: referrer_of(terms)[k] for k in ("name", "email")},
        },
        "body_areas": intake["body_areas"],
        "completed_at": intake["completed_at"].isoformat(),
    }


def intake_completed(intake: Doc) -> Outgoing:
    """Everything planning needs to draft a plan: screening, baseline, the referral's terms."""
    return internal("intake.completed", intake["tenant_id"], _intake_data(intake), intake["_id"])


def intake_screening_updated(intake: Doc, clearance: Doc) -> Outgoing:
    """As `intake.completed`, with the screening after a clearance, and the clearance (JSON)."""
    data = {**_intake_data(intake), "clearance": dict(clearance)}
    return internal("intake.screening_updated", intake["tenant_id"], data, intake["_id"])
