"""Every event intake emits: to its own exchange (`intake.events`) and, for partners, to `partner.status`.

Each builder makes the event of one type from stored state (docs/events.md lists their data;
`shared/events/payloads/intake.py` holds their schemas). Partner status events are routed
`<partner_id>.<type>`, so each partner's queue (bound with `<partner_id>.#`) receives only its
own. Their data is what the partner sent, never more: `partner_referral_id, referral_id, status,
reasons, version`; after acceptance, the milestones of care the partner is owed as the referrer
(`referral_milestone`: the plan of care, progress reports, the discharge), as native data or,
for a partner with FHIR status, as the referral's FHIR Task (`domain/fhir_task.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.intake.domain import fhir_task, intake_link
from services.intake.domain import milestones as ms
from services.intake.domain.fhir_task import TaskContext
from services.intake.domain.partner_settings import FHIR
from services.intake.domain.patient import consent_of, contact_of
from services.intake.domain.refusals import UNKNOWN_TENANT, Refusal
from shared.config import Settings
from shared.events import new_event, outbox
from shared.events.outbox import Outgoing
from shared.events.topology import PARTNER_STATUS_EXCHANGE

SOURCE = "clinic/intake"
SERVICE = "intake"
FHIR_JSON = "application/fhir+json"

Doc = Mapping[str, Any]


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
    """The prescriber as the referral names them (`prefix`, `family_name`: "Dr. Chen" in letters)."""
    requester = terms.get("requester") or {}
    return {k: requester.get(k) for k in REFERRER_FIELDS}


def diagnoses_of(terms: Doc) -> list[dict[str, Any]]:
    return [{"code": d["code"], "display": d.get("display")} for d in terms.get("diagnoses", [])]


def _terms_data(
    referral: Doc, patient: Doc, settings: Settings, clinic_name: str | None
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
        "clinic_name": clinic_name,
        "intake_link": intake_link.link_for(
            settings, referral["_id"], referral["intake_link_nonce"]
        ),
        "version": referral["version"],
    }


def referral_accepted(
    referral: Doc, patient: Doc, settings: Settings, clinic_name: str | None = None
) -> list[Outgoing]:
    """`referral.accepted` to the partner if any, and inside.

    The partner's status goes first: its queue is declared for every known partner, so it is
    always routable, and it does not wait behind an internal event nobody consumes yet.
    """
    data = _terms_data(referral, patient, settings, clinic_name)
    inside = internal("referral.accepted", referral["tenant_id"], data, referral["_id"])
    return [*_to_partner(referral, "referral.accepted"), inside]


def referral_amended(
    referral: Doc, patient: Doc, settings: Settings, clinic_name: str | None = None
) -> list[Outgoing]:
    """`referral.accepted` (again, with the new version) to the partner, `referral.amended` inside."""
    data = _terms_data(referral, patient, settings, clinic_name)
    inside = internal("referral.amended", referral["tenant_id"], data, referral["_id"])
    return [*_to_partner(referral, "referral.accepted"), inside]


def referral_cancelled(referral: Doc, reason: str) -> list[Outgoing]:
    data = {
        "referral_id": referral["_id"],
        "partner_id": referral.get("partner_id"),
        "partner_referral_id": referral["partner_referral_id"],
        "patient_id": referral["patient_id"],
        "reason": reason,
    }
    inside = internal("referral.cancelled", referral["tenant_id"], data, referral["_id"])
    return [*_to_partner(referral, "referral.cancelled"), inside]


def referral_rejected(refusal: Refusal, clinic_name: str | None = None) -> list[Outgoing]:
    """`referral.rejected` to a known partner; inside too when it may refer to the clinic (with
    the patient's name and birth date when they could be read, for the referrer's letter)."""
    if refusal.partner_id is None:
        return []
    tenant_id = refusal.tenant_id or UNKNOWN_TENANT
    status = partner_status(
        refusal.partner_id,
        "referral.rejected",
        tenant_id,
        partner_referral_id=refusal.partner_referral_id,
        referral_id=refusal.referral_id,
        reasons=refusal.reasons,
    )
    if not refusal.tenant_allowed:
        return [status]
    data = {
        "partner_id": refusal.partner_id,
        "partner_referral_id": refusal.partner_referral_id,
        "reasons": [dict(r) for r in refusal.reasons],
        "referrer": refusal.referrer,
        "patient": refusal.patient,
        "clinic_name": clinic_name,
    }
    return [status, internal("referral.rejected", tenant_id, data, refusal.referral_id)]


def _to_partner(referral: Doc, type: str) -> list[Outgoing]:
    if not referral.get("partner_id"):
        return []
    return [
        partner_status(
            referral["partner_id"],
            type,
            referral["tenant_id"],
            partner_referral_id=referral["partner_referral_id"],
            referral_id=referral["_id"],
            version=referral["version"],
        )
    ]


def partner_status(
    partner_id: str,
    type: str,
    tenant_id: str,
    *,
    partner_referral_id: str | None,
    referral_id: str | None,
    reasons: Sequence[Mapping[str, str]] = (),
    version: int | None = None,
) -> Outgoing:
    """A status event for one partner: `referral.accepted`, `.rejected` or `.cancelled`."""
    data = {
        "partner_referral_id": partner_referral_id,
        "referral_id": referral_id,
        "status": type.removeprefix("referral."),
        "reasons": [dict(r) for r in reasons],
        "version": version,
    }
    event = new_event(type, source=SOURCE, tenant_id=tenant_id, data=data, subject=referral_id)
    return Outgoing(event, PARTNER_STATUS_EXCHANGE, status_routing_key(partner_id, type))


def status_routing_key(partner_id: str, type: str) -> str:
    return f"{partner_id}.{type}"


def referral_milestone(
    referral: Doc, milestone: Doc, status_format: str, context: TaskContext
) -> Outgoing:
    """The partner's status event of one milestone of care (`referral` as stored with it).

    Native partners get the milestone's data (`referral.plan_approved`, `.progress_reported`,
    `.discharged`); FHIR partners get, under the same type, the referral's whole Task as it now
    stands (`application/fhir+json`).
    """
    type = ms.STATUS_TYPE[milestone["kind"]]
    if status_format == FHIR:
        data: dict[str, Any] = fhir_task.referral_task(referral, context)
        content_type = FHIR_JSON
    else:
        data, content_type = _native_milestone(referral, milestone), "application/json"
    event = new_event(
        type,
        source=SOURCE,
        tenant_id=referral["tenant_id"],
        data=data,
        subject=referral["_id"],
        datacontenttype=content_type,
    )
    return Outgoing(
        event, PARTNER_STATUS_EXCHANGE, status_routing_key(referral["partner_id"], type)
    )


def _native_milestone(referral: Doc, milestone: Doc) -> dict[str, Any]:
    """`partner_referral_id, referral_id, status, reasons, version` as every status, where care
    stands (`status`: in_progress, completed or discontinued), when, and the milestone's part."""
    data: dict[str, Any] = {
        "partner_referral_id": referral["partner_referral_id"],
        "referral_id": referral["_id"],
        "status": ms.care_status(referral.get("milestones") or [milestone]),
        "reasons": [],
        "version": referral["version"],
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
