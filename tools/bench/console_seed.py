"""A clinic of many patients for the console's page timings (tools/bench/console_pages.py), made
fast: ONE real journey through the public APIs, then its stored documents cloned.

The journey (`one_journey`): the front desk records a referral at the therapist's location, its
intake (clear screening); planning drafts the plan, a clinician approves it; the front desk
books five sessions with the therapist (the first two days ago), the therapist completes the
first with an NPRS measurement; notifications send what they send.

The clones (`clone_journey`): every document of that journey in intake (`patients`,
`referrals`, `intakes`), planning (`plans`) and notifications (`deliveries`), inserted again
with `insert_many` in batches of `BATCH`, each clone with
- new ids: every id (`shared.ids.ID_PATTERN`, alone or inside a key such as `pid:<id>` or
  `patient:<id>`) replaced by a new one of the same kind, consistently within the clone;
- a name of its own from `NAMES` (some with accents), a unique MRN, email and partner referral
  id: written in every string that held the journey's, folded where the journey's was folded
  (the match keys), so every unique index (`repository/indexes.py` of each service) holds;
- intake's own search key (`services.intake.domain.patient_search.search_key`) recomputed;
- its sessions moved by whole weeks (plus a day and hours) over `weeks` weeks around today, so
  a calendar week at the location holds about sessions / weeks of them;
- a new `_id` where the journey's is not an id of ours (a delivery's is a hash of its event);
- no outbox and no work due: the journey's events were sent once, a clone's are not sent
  again; deliveries still queued (reminders to come) and planning's referral check are left out,
  so the workers find nothing of the clones to do.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import MongoClient
from pymongo.errors import BulkWriteError

from services.intake.domain.patient_search import fold, search_key
from shared.ids import ID_PATTERN, new_id
from testkit.referrals import native_referral
from testkit.staff import StaffClient
from testkit.staff_accounts import StaffedClinic
from testkit.staff_forms import session_notes
from testkit.treatment_plans import active_plan
from testkit.waiting import wait_until

SESSIONS_PER_PATIENT = 5
BATCH = 100  # small: the stand-in serves one command at a time, and the workers wait
EMBEDDED_ID = re.compile(ID_PATTERN.pattern.strip("^$"))
CLONED = {
    "intake": ("patients", "referrals", "intakes"),
    "planning": ("plans",),
    "notifications": ("deliveries",),
}
GIVEN = ("Maria", "José", "Aisha", "Wei", "Olga", "Liam", "Noor", "Kenji", "Amara", "Lucas",
         "Zoë", "Mateo", "Ingrid", "Ravi", "Chloé", "Tomasz", "Fatima", "Hugo", "Sun", "Elena")  # fmt: skip
FAMILY = ("García", "Nguyen", "Okafor", "Schmidt", "Kowalski", "Haddad", "Tanaka", "Müller",
          "Rossi", "Silva", "Johansson", "Petrov", "Dubois", "Khan", "O'Brien", "Novak",
          "Álvarez", "Fischer", "Moreau", "Cohen", "Lindqvist", "Yilmaz", "Santos", "Park",
          "Garner", "Gardner", "Schultz", "Núñez", "Brennan", "Okoye", "Sato", "Hansen",
          "Ivanova", "Ferreira", "Dąbrowski", "Bianchi", "Walsh", "Mendes", "Lund", "Ortega")  # fmt: skip
TAG = "Qzx"  # the journey's names carry it, so no other string holds them by chance


@dataclass(frozen=True)
class Journey:
    tenant_id: str
    location_id: str
    zone: str
    patient_id: str
    referral_id: str
    plan_id: str
    patient: dict[str, Any]  # as referred: given and family name, MRN, email
    partner_referral_id: str


def one_journey(clinic: StaffedClinic, urls: dict[str, str], timeout_s: float = 120) -> Journey:
    """The referral, intake, plan, five sessions and one completed: through the public APIs."""
    assert clinic.front_desk.signed_in and clinic.therapist.signed_in
    desk = clinic.front_desk.signed_in.client(urls, "front desk")
    therapist = clinic.therapist.signed_in.client(urls, "therapist")
    location = clinic.locations[-1]  # where the therapist works
    patient = {
        **native_referral()["patient"],
        "given_name": f"Given{TAG}",
        "family_name": f"Family{TAG}",
        "identifiers": [{"system": "urn:bench:mrn", "value": f"MRN-{TAG}-0"}],
        "email": f"patient-{TAG.lower()}-0@bench.example",
        "phone": None,
    }
    today = datetime.now(UTC).date()
    referral = native_referral(
        patient=patient, location_id=location, valid_from=(today - timedelta(days=3)).isoformat()
    )
    made = desk.post("intake", "/referrals", referral, expect=201)
    plan = active_plan(desk, therapist, made["referral_id"], timeout_s)
    sam = therapist.get("intake", "/auth/me")["user_id"]
    booked = [
        desk.post(
            "planning",
            f"/plans/{plan['plan_id']}/sessions",
            {"therapist_id": sam, "starts_at_local": f"{today + timedelta(days=d)}T10:00"},
        )
        for d in (-2, 1, 3, 5, 8)
    ]
    therapist.post(
        "planning",
        f"/plans/{plan['plan_id']}/sessions/{booked[0]['session_id']}/complete",
        session_notes([{"measure": "NPRS", "score": 4}]),
    )
    journey = Journey(
        clinic.tenant_id,
        location,
        booked[0]["location_tz"],
        made["patient_id"],
        made["referral_id"],
        plan["plan_id"],
        patient,
        referral["partner_referral_id"],
    )
    _wait_until_settled(desk, journey, timeout_s)
    return journey


def _wait_until_settled(desk: StaffClient, journey: Journey, timeout_s: float) -> None:
    """Notifications have the patient's messages, and planning the completed session."""
    recipient = f"patient:{journey.patient_id}"
    wait_until(
        lambda: desk.get("notifications", f"/deliveries?recipient={recipient}")["total"] > 0,
        timeout=timeout_s,
        message="the patient's messages in the delivery log",
    )


def clone_journey(
    mongo_url: str,
    db_prefix: str,
    journey: Journey,
    clones: int,
    weeks: int,
    seed: int = 14,
    first: int = 1,
    batch: int = BATCH,
) -> dict[str, Any]:
    """`clones` more patients like the journey's; what was inserted, per collection, and how long.
        `first`: the number of the first clone (a later call goes on from where an earlier ended, so
        their MRNs, emails and hashed ids stay unique); `batch`: documents per `insert_many` (larger
    when no worker waits on the stand-in meanwhile)."""
    started = time.monotonic()
    client = MongoClient(mongo_url, connectTimeoutMS=30_000)  # a slow stand-in is not down
    try:
        templates = _journey_documents(client, db_prefix, journey)
        rng = random.Random(seed)
        batches: dict[tuple[str, str], list[dict[str, Any]]] = {k: [] for k in templates}
        inserted = dict.fromkeys(templates, 0)
        for n in range(first, first + clones):
            clone = Clone(journey, n, rng, weeks)
            for key, documents in templates.items():
                batches[key].extend(clone.of(key[1], d) for d in documents)
                if len(batches[key]) >= batch:
                    inserted[key] += _insert(client, db_prefix, key, batches[key])
            if (done := n - first + 1) % 100 == 0:
                print(
                    f"console bench: {done} of {clones} patients cloned",
                    file=sys.stderr,
                    flush=True,
                )
        for key, rest in batches.items():
            inserted[key] += _insert(client, db_prefix, key, rest)
    finally:
        client.close()
    return {
        "documents_per_journey": {f"{s}.{c}": len(d) for (s, c), d in templates.items()},
        "inserted": {f"{s}.{c}": count for (s, c), count in inserted.items()},
        "seconds": round(time.monotonic() - started, 1),
    }


def _insert(client: MongoClient, prefix: str, key: tuple[str, str], batch: list) -> int:
    if not batch:
        return 0
    service, collection = key
    try:
        client[f"{prefix}_{service}"][collection].insert_many(batch, ordered=False)
    except BulkWriteError as error:
        first = error.details["writeErrors"][0]
        raise RuntimeError(
            f"cloning {service}.{collection}: {len(error.details['writeErrors'])} inserts "
            f"refused, first: {first['errmsg'][:300]}"
        ) from None
    count = len(batch)
    batch.clear()
    return count


def _journey_documents(
    client: MongoClient, prefix: str, journey: Journey
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every document of the clinic that names the journey's patient, referral or plan."""
    ours = (journey.patient_id, journey.referral_id, journey.plan_id)
    found = {}
    for service, collections in CLONED.items():
        for collection in collections:
            documents = client[f"{prefix}_{service}"][collection].find(
                {"tenant_id": journey.tenant_id}
            )
            found[(service, collection)] = [
                d
                for d in documents
                if any(i in json.dumps(d, default=str) for i in ours) and not _due(d)
            ]
    assert found[("intake", "patients")], "the journey's patient is not stored"
    assert found[("planning", "plans")], "the journey's plan is not stored"
    return found


def _due(document: dict[str, Any]) -> bool:
    """Work a worker would pick up: a delivery still to send."""
    return document.get("status") == "queued"


WORK_FIELDS = ("outbox", "referral_check", "claim", "lease_until")
"""Fields a worker acts on (prefixes): left out of a clone."""


class Clone:
    """The n-th clone: its ids, its person, its week."""

    def __init__(self, journey: Journey, n: int, rng: random.Random, weeks: int) -> None:
        self.n = n
        self.ids: dict[str, str] = {}
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        old = journey.patient
        plain = "".join(fold(family).split("'"))
        new = {
            "given_name": given,
            "family_name": family,
            "mrn": f"MRN-B{n:06d}",
            "email": f"{fold(given)}.{plain}.{n}@bench.example",
            "reference": f"{journey.partner_referral_id}-{n}",
        }
        pairs = [
            (old["given_name"], new["given_name"]),
            (old["family_name"], new["family_name"]),
            (old["identifiers"][0]["value"], new["mrn"]),
            (old["email"], new["email"]),
            (journey.partner_referral_id, new["reference"]),
        ]
        pairs += [(fold(a), fold(b)) for a, b in pairs]  # the match keys hold folded names
        self.pairs = [(a, b) for a, b in pairs if a]
        offset_weeks = rng.randrange(weeks) - weeks // 2
        self.shift = timedelta(
            weeks=offset_weeks, days=rng.randrange(-2, 3), hours=rng.randrange(-1, 8)
        )

    def _id(self, found: re.Match[str]) -> str:
        old = found[0]
        if old not in self.ids:
            self.ids[old] = new_id(old.split("_", 1)[0])
        return self.ids[old]

    def _text(self, value: str) -> str:
        value = EMBEDDED_ID.sub(self._id, value)
        for old, new in self.pairs:
            value = value.replace(old, new)
        return value

    def _copy(self, value: Any, shift: timedelta | None = None) -> Any:
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, datetime) and shift is not None:
            return value + shift
        if isinstance(value, dict):
            return {self._text(k): self._copy(v, shift) for k, v in value.items()}
        if isinstance(value, list):
            return [self._copy(v, shift) for v in value]
        return value

    def of(self, collection: str, document: dict[str, Any]) -> dict[str, Any]:
        kept = {k: v for k, v in document.items() if not k.startswith(WORK_FIELDS)}
        copied = {
            k: self._copy(v, self.shift if k == "sessions" else None) for k, v in kept.items()
        }
        if copied["_id"] == document["_id"]:  # not an id of ours: a hash, made anew
            copied["_id"] = hashlib.sha256(f"{document['_id']}/{self.n}".encode()).hexdigest()
        if collection == "patients":
            copied["search"] = search_key(copied)
        return copied
