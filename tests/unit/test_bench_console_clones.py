"""The console bench's clones (tools/bench/console_seed.py): new ids consistently, a person of
their own wherever the journey's was (folded in the match keys), intake's own search key, the
sessions moved, nothing left for a worker to do."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from services.intake.domain.patient_search import search_key
from shared.ids import ID_PATTERN
from tools.bench.console_seed import TAG, Clone, Journey

PATIENT_ID, REFERRAL_ID, PLAN_ID = (
    "pat_0123456789abcdef0123",
    "ref_0123456789abcdef0123",
    "pln_0123456789abcdef0123",
)
PERSON = {
    "given_name": f"Given{TAG}",
    "family_name": f"Family{TAG}",
    "identifiers": [{"system": "urn:bench:mrn", "value": f"MRN-{TAG}-0"}],
    "email": f"patient-{TAG.lower()}-0@bench.example",
}
JOURNEY = Journey("t1", "lakeside", "America/Chicago", PATIENT_ID, REFERRAL_ID, PLAN_ID,
                  PERSON, "REF-1")  # fmt: skip
PATIENT = {
    "_id": PATIENT_ID,
    "tenant_id": "t1",
    **PERSON,
    "match_keys": [
        f"pid:{PATIENT_ID}",
        f"sid:clinic|urn:bench:mrn|MRN-{TAG}-0",
        f"ngbe:family{TAG.lower()}|given{TAG.lower()}|1980-01-01|{PERSON['email']}",
    ],
    "search": search_key(PERSON),
    "outbox": [{"type": "patient.registered"}],
    "outbox_due": datetime(2026, 1, 1),
}
STARTS = datetime(2026, 12, 3, 16, 0)
PLAN = {
    "_id": PLAN_ID,
    "tenant_id": "t1",
    "patient_id": PATIENT_ID,
    "referral_id": REFERRAL_ID,
    "created_at": STARTS,
    "referral_check_at": STARTS,
    "sessions": [{"session_id": "ses_0123456789abcdef0123", "starts_at": STARTS}],
}


def clone(n: int) -> Clone:
    return Clone(JOURNEY, n, random.Random(n), weeks=50)


def test_a_clone_has_new_ids_used_consistently_and_no_work_for_a_worker():
    one = clone(1)
    patient, plan = one.of("patients", PATIENT), one.of("plans", PLAN)
    assert patient["_id"] != PATIENT_ID and ID_PATTERN.match(patient["_id"])
    assert patient["_id"].startswith("pat_") and plan["_id"].startswith("pln_")
    assert plan["patient_id"] == patient["_id"]
    assert f"pid:{patient['_id']}" in patient["match_keys"]
    assert "outbox" not in patient and "outbox_due" not in patient
    assert "referral_check_at" not in plan
    assert plan["created_at"] == STARTS  # only the sessions move
    moved = plan["sessions"][0]["starts_at"] - STARTS
    assert moved.total_seconds() % 3600 == 0 and abs(moved) <= timedelta(weeks=26)


def test_a_clone_is_its_own_person_in_every_unique_key_and_found_by_its_name():
    first, second = clone(1).of("patients", PATIENT), clone(2).of("patients", PATIENT)
    assert set(first["match_keys"]).isdisjoint(second["match_keys"])
    assert first["email"] != second["email"]
    assert first["identifiers"][0]["value"] != second["identifiers"][0]["value"]
    text = str(first).lower()
    assert TAG.lower() not in text  # the journey's person is gone, folded or not
    assert first["search"] == search_key(first)
    assert first["search"]["words"][0] in first["match_keys"][2]


def test_a_hash_id_is_made_anew_per_clone():
    delivery = {"_id": "ab" * 32, "tenant_id": "t1", "recipient_key": f"patient:{PATIENT_ID}"}
    first, second = clone(1).of("deliveries", delivery), clone(2).of("deliveries", delivery)
    assert len({delivery["_id"], first["_id"], second["_id"]}) == 3
    assert first["recipient_key"] != delivery["recipient_key"]
