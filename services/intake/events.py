"""Every event intake emits: to its own exchange (`intake.events`) and, for partners, to `partner.status`.

Each builder makes the event of one type from stored state (docs/events.md lists their data;
`shared/events/payloads/intake.py` holds their schemas). Partner status events are routed
`<partner_id>.<type>`, so each partner's queue (bound with `<partner_id>.#`) receives only its
own. Every partner status goes through `partner_status` (the seam where the partner's status
format is chosen: `STATUS_FORMATS`); the native one carries what the partner sent, never more
(`partner_referral_id, referral_id, status, reasons, pending, notices, version, answers`), and
each names the partner message it answers (`answers`, and the AMQP `correlation_id`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.intake.domain import intake_link
from services.intake.domain.patient import consent_of, contact_of
from services.intake.domain.refusals import UNKNOWN_TENANT, Refusal
from shared.config import Settings
from shared.events import Event, new_event, outbox
from shared.events.outbox import Outgoing
from shared.events.topology import PARTNER_STATUS_EXCHANGE

SOURCE = "clinic/intake"
SERVICE = "intake"
NATIVE = "native"
"""The status format of a partner that chose none (`STATUS_FORMATS`)."""

Doc = Mapping[str, Any]
Answers = Mapping[str, str | None]
"""`{id, source}` of the partner message a status answers (the CloudEvent's; docs/partners.md)."""


def internal(type: str, tenant_id: str, data: dict[str, Any], subject: str | None) -> Outgoing:
    event = new_event(type, source=SOURCE, tenant_id=tenant_id, data=data, subject=subject)
    return outbox.to_exchange_of(SERVICE, event)


# --- clinics and their keys (replicated by planning and notifications: shared/replicas.py) ----


def location_upserted(tenant_id: str, location: Doc) -> Outgoing:
    fields = ("location_id", "name", "timezone", "address", "version")
    data = {"tenant_id": tenant_id, **{k: location.get(k) for k in fields}}
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


def referrer_of(terms: Doc) -> dict[str, Any]:
    """The prescriber, without a contact detail kept as sent that did not validate (noticed):
    nobody is written to at an address that is not one."""
    requester = terms.get("requester") or {}
    unusable = {n["field"].removeprefix("requester.") for n in terms.get("notices", [])}
    fields = ("name", "email", "phone", "organization")
    return {k: None if k in unusable else requester.get(k) for k in fields}


def diagnoses_of(terms: Doc) -> list[dict[str, Any]]:
    return [{"code": d["code"], "display": d.get("display")} for d in terms.get("diagnoses", [])]


def _terms_data(referral: Doc, patient: Doc, settings: Settings) -> dict[str, Any]:
    """The referral's terms, referrer, patient and intake link."""
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
        "patient": contact_of(patient),
        "consent": consent_of(patient),
        "intake_link": intake_link.link_for(
            settings, referral["_id"], referral["intake_link_nonce"]
        ),
        "version": referral["version"],
    }


def referral_accepted(
    referral: Doc, patient: Doc, settings: Settings, status_format: str = NATIVE
) -> list[Outgoing]:
    """`referral.accepted` to the partner if any, and inside.

    The partner's status goes first: its queue is declared for every known partner, so it is
    always routable, and it does not wait behind an internal event nobody consumes yet.
    """
    data = _terms_data(referral, patient, settings)
    inside = internal("referral.accepted", referral["tenant_id"], data, referral["_id"])
    return [*_to_partner(referral, "referral.accepted", status_format), inside]


def referral_amended(
    referral: Doc, patient: Doc, settings: Settings, status_format: str = NATIVE
) -> list[Outgoing]:
    """`referral.accepted` (again, with the new version) to the partner, `referral.amended` inside."""
    data = _terms_data(referral, patient, settings)
    inside = internal("referral.amended", referral["tenant_id"], data, referral["_id"])
    return [*_to_partner(referral, "referral.accepted", status_format), inside]


def referral_held(referral: Doc, status_format: str = NATIVE) -> list[Outgoing]:
    """`referral.received` to the partner, naming what is pending: nothing happens inside yet."""
    return _to_partner(referral, "referral.received", status_format)


def referral_cancelled(
    referral: Doc, reason: str, status_format: str = NATIVE, answers: Answers | None = None
) -> list[Outgoing]:
    """`referral.cancelled` to the partner (answering `answers`, else the referral's message),
    and inside when the referral was ever accepted (a held one reached nobody inside)."""
    to_partner = _to_partner(referral, "referral.cancelled", status_format, answers)
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


def referral_declined(referral: Doc, reason: str, status_format: str = NATIVE) -> list[Outgoing]:
    """A held referral the clinic declined: `referral.rejected` to the partner and inside."""
    reasons = [{"field": "review", "message": reason}]
    to_partner = _to_partner(referral, "referral.rejected", status_format, reasons=reasons)
    if not referral.get("partner_id"):
        return to_partner
    data = {
        "partner_id": referral["partner_id"],
        "partner_referral_id": referral["partner_referral_id"],
        "reasons": reasons,
        "referrer": {k: referrer_of(referral["terms"])[k] for k in ("name", "email")},
    }
    inside = internal("referral.rejected", referral["tenant_id"], data, referral["_id"])
    return [*to_partner, inside]


def referral_rejected(refusal: Refusal, status_format: str = NATIVE) -> list[Outgoing]:
    """`referral.rejected` to a known partner; inside too when it may refer to the clinic."""
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
    }
    return [status, internal("referral.rejected", tenant_id, data, refusal.referral_id)]


def _to_partner(
    referral: Doc,
    type: str,
    status_format: str,
    answers: Answers | None = None,
    reasons: Sequence[Mapping[str, str]] = (),
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
    )
    return [partner_status(status, status_format)]


# --- partners' status events: one seam, where a partner's status format is chosen -------------


@dataclass(frozen=True)
class PartnerStatus:
    """What one partner hears about one of its referrals, before it is written in a format.

    `type` is the milestone (`referral.received`, `.accepted`, `.rejected`, `.cancelled`);
    `answers` the partner message it answers (None: none, e.g. an HTTP submission sent without
    an Idempotency-Key); `referral` the stored referral, for formats that carry more of it.
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


def native_status(status: PartnerStatus) -> Event:
    """The native status event (docs/partners.md, "Receiving status"): what the partner sent,
    the clinic's id and version, and what is wrong, pending or noticed; no clinical detail."""
    data = {
        "partner_referral_id": status.partner_referral_id,
        "referral_id": status.referral_id,
        "status": status.type.removeprefix("referral."),
        "reasons": [dict(r) for r in status.reasons],
        "pending": [{"item": p["item"], "message": p["message"]} for p in status.pending],
        "notices": [{"field": n["field"], "message": n["message"]} for n in status.notices],
        "version": status.version,
        "answers": _answers(status.answers),
    }
    return new_event(
        status.type,
        source=SOURCE,
        tenant_id=status.tenant_id,
        data=data,
        subject=status.referral_id,
    )


STATUS_FORMATS: dict[str, Callable[[PartnerStatus], Event]] = {NATIVE: native_status}
"""A partner's `status_format` (its setting; absent: native) -> the writer of its status events."""


def status_format_of(partner: Doc | None) -> str:
    """The status format a partner chose (`status_format` on the partner; native by default)."""
    return (partner or {}).get("status_format") or NATIVE


def partner_status(status: PartnerStatus, status_format: str = NATIVE) -> Outgoing:
    """The status in the partner's format, routed `<partner_id>.<type>` to its queue only, with
    the AMQP `correlation_id` set to the id of the message it answers."""
    event = STATUS_FORMATS[status_format](status)
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
