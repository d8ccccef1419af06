"""Staff record an intake on the patient's own form (the console): the form of a referral as
data (`web_form/form_definition.py`), and its answers read, checked and completed exactly as the
patient's web form does (`web_form.form_input.read_form`, `form_check.check`, `complete_intake`).

Errors come back by the form's field names (`answers.<field>`), so each is shown next to its
field; a referral that is not accepted, or whose intake is complete, is a conflict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from services.intake.bootstrap import Deps
from services.intake.repository.intakes import Intakes
from services.intake.repository.referrals import Referrals
from services.intake.usecases.intakes import complete_intake
from services.intake.usecases.tenants import get_tenant

# modules, not names: the web form's checks import the API's schemas, whose package imports this
from services.intake.web_form import field_errors, form_check
from services.intake.web_form.form_definition import form_definition
from services.intake.web_form.form_input import read_form
from services.intake.web_form.questionnaires import QUESTIONNAIRES, Questionnaire
from shared.errors import Conflict, Invalid, NotFound
from shared.web.auth import Principal

ANSWERS = "answers"


def _open_referral(deps: Deps, principal: Principal, referral_id: str) -> dict[str, Any]:
    referral = Referrals(deps.db, principal.tenant_id).get(referral_id, principal.locations)
    if referral is None:
        raise NotFound(f"no referral {referral_id!r}")
    if referral["status"] != "accepted":
        raise Conflict(f"the referral is {referral['status']}: no intake can be recorded")
    if Intakes(deps.db, principal.tenant_id).exists_for(referral_id):
        raise Conflict("this referral's intake is complete; its signed consent cannot change")
    return referral


def _questionnaires(referral: Mapping[str, Any]) -> list[Questionnaire]:
    codes = [d["code"] for d in referral["terms"].get("diagnoses", [])]
    return QUESTIONNAIRES.for_diagnoses(codes)


def intake_form(deps: Deps, principal: Principal, referral_id: str) -> dict[str, Any]:
    """The intake form of an accepted referral without an intake, as data."""
    referral = _open_referral(deps, principal, referral_id)
    clinic = get_tenant(deps, principal.tenant_id)["name"]
    return {
        "referral_id": referral_id,
        "patient_id": referral["patient_id"],
        **form_definition(_questionnaires(referral), clinic),
    }


def record_intake(
    deps: Deps, principal: Principal, referral_id: str, answers: Mapping[str, Any]
) -> dict[str, Any]:
    """Complete the referral's intake from the form's answers (field name -> value or values)."""
    referral = _open_referral(deps, principal, referral_id)
    questionnaires = _questionnaires(referral)
    values: MultiDict[str, str] = MultiDict()
    for name, value in answers.items():
        for one in value if isinstance(value, list) else [value]:
            values.add(name, str(one))
    reading = read_form(values, questionnaires)
    loaded, errors = form_check.check(reading, questionnaires)
    if loaded is None:
        raise Invalid({f"{ANSWERS}.{k}": [v] for k, v in errors.items()})
    try:
        return complete_intake(deps, principal, referral_id, loaded, completed_by="staff")
    except Invalid as error:
        placed = field_errors.field_errors(error.errors, reading.origins, questionnaires)
        raise Invalid({f"{ANSWERS}.{k}": [v] for k, v in placed.items()}) from None
