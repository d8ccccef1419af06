"""What a patient's intake link opens (the referral, while its intake is to do), and what it does.

The link's token is the credential (`domain/intake_link.py`): the referral it names is read by
id alone, and everything else within that referral's clinic. The web form shows nothing about
the patient but what the form needs; the patient completes the intake with the staff API's use
case (`intakes.complete_intake`), acting as `intake-link:<referral id>`. There is no request
key to audit, so these use cases write the audit records themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.intake.bootstrap import Deps
from services.intake.domain.intake_link import InvalidLink, LinkTarget, read_token
from services.intake.domain.patient import consent_of
from services.intake.repository.intakes import Intakes
from services.intake.repository.patients import Patients
from services.intake.repository.referrals import Referrals, opened_by_link
from services.intake.usecases.intakes import complete_intake
from services.intake.usecases.tenants import get_tenant
from shared import audit
from shared.errors import NotFound
from shared.web.auth import Principal


@dataclass(frozen=True)
class OpenedLink:
    """What the form page needs of the referral: no name, contact or diagnosis is shown on it."""

    target: LinkTarget
    clinic_name: str
    patient_id: str
    diagnosis_codes: list[str]


def resolve(deps: Deps, token: str) -> LinkTarget:
    """The referral a link opens, while its intake is still to do; raises InvalidLink."""
    claims = read_token(deps.settings, token)
    referral = opened_by_link(deps.db, claims.referral_id)
    if referral is None or referral.get("intake_link_nonce") != claims.nonce:
        raise InvalidLink("the intake link has been replaced or revoked")
    if referral.get("status") != "accepted":
        raise InvalidLink("the referral is no longer open for intake", "closed")
    if Intakes(deps.db, referral["tenant_id"]).exists_for(claims.referral_id):
        raise InvalidLink("the intake of this referral is complete", "used")
    return LinkTarget(tenant_id=referral["tenant_id"], referral_id=claims.referral_id)


def open_link(deps: Deps, token: str) -> OpenedLink:
    """The referral behind a valid link, as the form page needs it; InvalidLink or NotFound."""
    target = resolve(deps, token)
    referral = Referrals(deps.db, target.tenant_id).get(target.referral_id)
    if referral is None:
        raise NotFound("no such referral")
    codes = [d["code"] for d in referral["terms"].get("diagnoses", [])]
    clinic = get_tenant(deps, target.tenant_id)["name"]
    return OpenedLink(target, clinic, referral["patient_id"], codes)


def consent_on_file(deps: Deps, opened: OpenedLink) -> dict[str, bool]:
    """The patient's channel consent as the clinic holds it (the form's defaults)."""
    patient = Patients(deps.db, opened.target.tenant_id).get(opened.patient_id)
    return consent_of(patient or {})


def record_form_shown(deps: Deps, target: LinkTarget, *, with_errors: bool) -> None:
    """Audit that the form was shown through the link (with the patient's mistakes, or not)."""
    outcome = "invalid" if with_errors else "ok"
    _audit(deps, target, "intake_form.show", "referral", target.referral_id, outcome)


def complete_by_link(deps: Deps, target: LinkTarget, form: dict[str, Any]) -> dict[str, Any]:
    """The patient completes the intake from the link's web form."""
    patient = link_principal(target)
    intake = complete_intake(deps, patient, target.referral_id, form, completed_by="patient")
    _audit(deps, target, "intake.complete", "intake", intake["_id"])
    return intake


def link_principal(target: LinkTarget) -> Principal:
    """Who acts through an intake link: the patient, as `intake-link:<referral id>`."""
    return Principal(
        key_id=target.referral_id, tenant_id=target.tenant_id, role="intake-link", name="patient"
    )


def _audit(
    deps: Deps, target: LinkTarget, action: str, kind: str, object_id: str, outcome: str = "ok"
) -> None:
    audit.record(
        deps.db,
        actor=link_principal(target).actor,
        tenant_id=target.tenant_id,
        action=action,
        object_type=kind,
        object_id=object_id,
        outcome=outcome,
    )
