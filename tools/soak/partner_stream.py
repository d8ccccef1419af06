"""The partner during the soak: referrals at a steady rate, native JSON and FHIR R4 in turn (now
and then a deliberately broken one, which must be refused and dead-lettered), published as its
own RabbitMQ user with confirms; and its status queue read, each status noted once by its
CloudEvent id (a redelivered status is the same event).

A publish that fails (the broker away) is published again, the same CloudEvent, once the broker
is back: what a partner's system does, and why intake must take a referral once however often
it comes.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from testkit.partner import FHIR, NATIVE, Partner, answered_reference, cloud_event, referral_id_of
from testkit.referrals import distinct_referral, fhir_referral, resource

RECONNECT_S = 1.0
STATUS_LOOK_S = 0.5
POISON_EVERY = 10  # one broken message in POISON_EVERY


@dataclass
class Sent:
    """One message the partner published: what it was and who should hear of it."""

    n: int
    kind: str  # native, fhir or poison
    reference: str  # the partner's referral id
    patient_email: str
    referrer_email: str
    event: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0

    @property
    def poison(self) -> bool:
        return self.kind == "poison"


class PartnerStream:
    def __init__(
        self,
        partner_id: str,
        amqp_url: str,
        tenant_id: str,
        rate_per_s: float,
        on_accepted: Callable[[str, str], None],
    ) -> None:
        self.partner_id, self.url, self.tenant_id = partner_id, amqp_url, tenant_id
        self.rate_per_s, self.on_accepted = rate_per_s, on_accepted
        self.run_id = uuid.uuid4().hex[:6]
        self.sent: list[Sent] = []
        self.heard: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.status_deliveries = 0  # every status message taken, redeliveries included
        self.publish_failures = 0
        self.status_read_failures = 0
        self.publishing = threading.Event()
        self.stopping = threading.Event()
        self._partner: Partner | None = None
        self.thread = threading.Thread(target=self._work, name="soak-partner", daemon=True)

    def start(self) -> None:
        self.publishing.set()
        self.thread.start()

    def stop_publishing(self) -> None:
        self.publishing.clear()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=60)
        self._drop_connection()

    # --- what was sent and heard --------------------------------------------------------------

    def referrals(self) -> list[Sent]:
        return [s for s in self.sent if not s.poison]

    def poison(self) -> list[Sent]:
        return [s for s in self.sent if s.poison]

    def answered(self) -> bool:
        """Whether every message published has its answer: accepted, or rejected (the poison)."""
        return all(self.heard[s.reference]["referral.rejected" if s.poison else "referral.accepted"]
                   for s in self.sent)  # fmt: skip

    # --- the work -----------------------------------------------------------------------------

    def _work(self) -> None:
        started, next_look = time.monotonic(), 0.0
        while not self.stopping.is_set():
            now = time.monotonic()
            if self.publishing.is_set() and now >= started + len(self.sent) / self.rate_per_s:
                self._publish(self._next())
            if now >= next_look:
                self._read_statuses()
                next_look = time.monotonic() + STATUS_LOOK_S
            self.stopping.wait(0.05)

    def _next(self) -> Sent:
        n = len(self.sent) + 1
        kind = "poison" if n % POISON_EVERY == 0 else ("fhir" if n % 2 else "native")
        reference = f"SOAK-{self.run_id}-{n}"
        sent = Sent(
            n,
            kind,
            reference,
            patient_email=f"patient-{self.run_id}-{n}@soak.example",
            referrer_email=f"referrer-{self.run_id}-{n}@soak.example",
        )
        sent.event = self._event(sent)
        self.sent.append(sent)
        return sent

    def _event(self, sent: Sent) -> dict[str, Any]:
        if sent.kind == "fhir":
            data, content_type = fhir_bundle(sent), FHIR
        else:
            data, content_type = native(sent), NATIVE
            if sent.poison:
                del data["patient"]
        return cloud_event(
            self.tenant_id, data, datacontenttype=content_type, partner_id=self.partner_id
        )

    def _publish(self, sent: Sent) -> None:
        """Until the broker confirms it (or the soak stops): the same CloudEvent each time."""
        while not self.stopping.is_set():
            sent.attempts += 1
            try:
                self._connection().publish(sent.event)
                return
            except Exception:  # the broker away: connection refused, reset, unconfirmed
                self.publish_failures += 1
                self._drop_connection()
                self.stopping.wait(RECONNECT_S)

    def _read_statuses(self) -> None:
        try:
            taken = self._connection().take_status()
        except Exception:
            self.status_read_failures += 1
            self._drop_connection()
            return
        for status in taken:
            self.status_deliveries += 1
            reference = answered_reference(status) or "?"
            first = not self.heard[reference][status["type"]]
            self.heard[reference][status["type"]].add(status["id"])
            if status["type"] == "referral.accepted" and first:
                self.on_accepted(reference, referral_id_of(status) or "")

    def _connection(self) -> Partner:
        if self._partner is None:
            self._partner = Partner(self.partner_id, self.url)
        return self._partner

    def _drop_connection(self) -> None:
        if self._partner is not None:
            with contextlib.suppress(Exception):  # already gone with the broker
                self._partner.close()
            self._partner = None


def _valid_since() -> str:
    """Valid since a few days, so that the session entered for yesterday is covered."""
    return (date.today() - timedelta(days=3)).isoformat()


def native(sent: Sent) -> dict[str, Any]:
    referral = distinct_referral(
        sent.n, email=sent.patient_email, language="en", consent={"email": True, "sms": False}
    )
    referral["partner_referral_id"] = sent.reference
    referral["valid_from"] = _valid_since()
    referral["requester"] = {**referral["requester"], "email": sent.referrer_email}
    return referral


def fhir_bundle(sent: Sent) -> dict[str, Any]:
    """The FHIR example for a patient of its own (email only: no phone, so no text messages)."""
    bundle = fhir_referral(sent.reference)
    resource(bundle, "ServiceRequest")["occurrencePeriod"]["start"] = _valid_since()
    patient = resource(bundle, "Patient")
    patient["identifier"][0]["value"] = f"MRN-{uuid.uuid4().hex[:12]}"
    patient["name"][0]["family"] = f"Soak{sent.n}"
    patient["telecom"] = [{"system": "email", "value": sent.patient_email, "use": "home"}]
    practitioner = resource(bundle, "Practitioner")
    practitioner["telecom"] = [{"system": "email", "value": sent.referrer_email, "use": "work"}]
    return bundle
