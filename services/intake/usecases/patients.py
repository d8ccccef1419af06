"""Patients: staff read them (only at the locations their key may see) and record their consent.

Consent is recorded per channel ("Email OK", "Text OK"): from the referral when it says (see
`patient_matching`), from the intake form, and changed by staff; each change emits
`patient.consent_changed`.
"""

from __future__ import annotations

from typing import Any

from services.intake import events
from services.intake.bootstrap import Deps
from services.intake.domain.patient import consent_of
from services.intake.repository.patient_data import Locations
from services.intake.repository.patients import Patients
from services.intake.repository.tenants import every_tenant_id
from shared.errors import NotFound
from shared.events import outbox
from shared.paging import Page, PageRequest
from shared.retry import retry_on_conflict
from shared.web.auth import Principal


def get_patient(deps: Deps, principal: Principal, patient_id: str) -> dict[str, Any]:
    found = Patients(deps.db, principal.tenant_id).get(patient_id, principal.locations)
    if found is None:
        raise NotFound(f"no patient {patient_id!r}")
    return found


SEARCH_FILTERS = ("name", "birth_date", "identifier", "phone")


def list_patients(
    deps: Deps, principal: Principal, request: PageRequest, ids: list[str] | None = None
) -> Page[dict[str, Any]]:
    """The patients at the locations the principal may see (only these `ids`, if given), by id."""
    where = {"_id": {"$in": sorted(set(ids))}} if ids else {}
    return Patients(deps.db, principal.tenant_id).page(principal.locations, where, request)


def search_patients(
    deps: Deps, principal: Principal, request: PageRequest, filters: dict[str, Any]
) -> Page[dict[str, Any]]:
    """The patients at the locations the principal may see matching every filter given (a name
    prefix, birth date, identifier value, E.164 phone), by family then given name."""
    wanted = {k: filters[k] for k in SEARCH_FILTERS if filters.get(k)}
    repo = Patients(deps.db, principal.tenant_id)
    return repo.search(principal.locations, request, **wanted)


def backfill_search(deps: Deps, tenant_id: str | None = None) -> dict[str, int]:
    """Give the patients stored before the search key (or with an older one) theirs: of one
    tenant, or of every tenant (an ops task); how many changed, by tenant."""
    tenant_ids = [tenant_id] if tenant_id else every_tenant_id(deps.db)
    return {t: Patients(deps.db, t).backfill_search() for t in tenant_ids}


def change_consent(
    deps: Deps, principal: Principal, patient_id: str, consent: dict[str, bool]
) -> dict[str, Any]:
    """Staff record the patient's consent per channel (Email OK, Text OK)."""
    return record_consent(
        deps,
        principal.tenant_id,
        patient_id,
        consent,
        source="staff",
        locations=principal.locations,
    )


def record_consent(
    deps: Deps,
    tenant_id: str,
    patient_id: str,
    consent: dict[str, bool],
    *,
    source: str,
    locations: Locations = None,
) -> dict[str, Any]:
    """Record the patient's consent per channel; emits `patient.consent_changed` when it changes."""
    repo = Patients(deps.db, tenant_id)
    wanted = {"email": bool(consent["email"]), "sms": bool(consent["sms"])}

    def attempt() -> dict[str, Any] | None:
        patient = repo.get(patient_id, locations)
        if patient is None:
            raise NotFound(f"no patient {patient_id!r}")
        if consent_of(patient) == wanted:
            return patient
        stamped = {**wanted, "updated_at": deps.clock(), "source": source}
        update = {"$set": {"consent": stamped}, "$inc": {"version": 1}}
        event = events.patient_consent_changed(patient, wanted)
        guarded = {"_id": patient_id, "version": patient["version"]}
        if not repo.update(guarded, outbox.with_events(update, [event])):
            return None
        return {**patient, "consent": stamped, "version": patient["version"] + 1}

    return retry_on_conflict(attempt, what=f"patient {patient_id!r}")


def note_screening(deps: Deps, tenant_id: str, intake: dict[str, Any]) -> None:
    """Keep the latest intake's screening on the patient record, so that every list that shows
    the patient (the staff's search) shows their precautions too. A clearance of an older intake
    does not replace a newer intake's screening."""
    screening = {
        **{k: intake["screening"].get(k) for k in SCREENING_KEPT},
        "intake_id": intake["_id"],
        "completed_at": intake["completed_at"],
    }
    Patients(deps.db, tenant_id).note_screening(intake["patient_id"], screening)


SCREENING_KEPT = (
    "outcome",
    "reasons",
    "excluded_areas",
    "modifications",
    "requires_clearance_for",
    "cleared",
)
