"""Partner status figures (issue 15): the shared examples' outcomes, and how soon a partner hears.

    .venv/bin/python -m tools.bench.partner_status [--count 40] [--reviews 10] [--mongo-url URL]

On a fresh database (its own in-memory MongoDB stand-in unless `--mongo-url`) and a fresh vhost
of the local RabbitMQ, with the intake worker's components in threads (default settings: the
relay polls every 0.5 s when idle) and intake's API in process:

1. the outcome of each file of ../shared/fhir-examples/, posted over HTTP as a partner;
2. latency from a partner's confirmed publish of a referral to its first status event on its own
   queue (p50/p95 over `--count` referrals, a new patient each, one every 0.2 s);
3. latency from staff's review of a held referral (the POST) to the partner's
   `referral.accepted` (p50/p95 over `--reviews`), and of the POST's answer itself. An event
   written by the API waits for the worker's relay to poll (up to OUTBOX_POLL_INTERVAL_S): one
   written by the worker's own consumer wakes it at once.

Prints JSON (and the outcomes as a Markdown table).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
import uuid
from contextlib import ExitStack
from typing import Any

from kombu import Connection, Consumer, Queue

from services.intake import worker
from services.intake.app import create_app
from services.intake.bootstrap import bootstrap
from services.intake.repository.indexes import create_indexes
from services.intake.usecases import keys, partners, tenants
from shared.config import load_settings
from shared.mongo import Mongo
from testkit import rabbit
from testkit.fhir_examples import EXAMPLES, as_own_referral
from testkit.mongo import MongoStandin
from testkit.partner import FHIR, PartnerSystem
from testkit.referrals import distinct_referral, fhir_referral, resource
from testkit.staff import bearer
from testkit.waiting import wait_until


class Arrivals:
    """The partner's status events as they arrive on its queue, with the time each arrived."""

    def __init__(self, partner: PartnerSystem) -> None:
        self.seen: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        self.stop = threading.Event()
        self.connection = Connection(partner.url)
        self.thread = threading.Thread(target=self._run, args=(partner.status_queue,), daemon=True)
        self.thread.start()

    def _run(self, queue: str) -> None:
        def record(body: Any, message: Any) -> None:
            event = json.loads(body) if isinstance(body, str | bytes) else body
            key = message.properties.get("correlation_id") or ""
            self.seen.setdefault(key, []).append((time.monotonic(), event))
            message.ack()

        with Consumer(
            self.connection, [Queue(queue, no_declare=True)], callbacks=[record], accept=None
        ):
            while not self.stop.is_set():
                try:
                    self.connection.drain_events(timeout=0.2)
                except TimeoutError:
                    continue

    def first(self, key: str, type: str | None = None) -> float | None:
        found = [t for t, e in self.seen.get(key, []) if type is None or e["type"] == type]
        return found[0] if found else None

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.connection.release()


def percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values) * 1000, 1),
        "p95_ms": round(cuts[18] * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def outcomes(client: Any, key: str) -> list[dict[str, Any]]:
    rows = []
    for name in sorted(EXAMPLES):
        response = client.post(
            "/referrals", json=as_own_referral(name), content_type=FHIR, headers=bearer(key)
        )
        body = response.json
        if response.status_code == 422:
            fields = sorted(body["errors"]["json"])
            rows.append({"file": name, "outcome": "rejected", "detail": ", ".join(fields)})
        else:
            items = ", ".join(p["item"] for p in body["pending"])
            rows.append({"file": name, "outcome": body["status"], "detail": items})
    return rows


def held_referral(n: int) -> dict[str, Any]:
    bundle = fhir_referral(f"HELD-{n}-{uuid.uuid4().hex[:6]}")
    for i in (0, 1):
        coding = resource(bundle, "Condition", i)["code"]["coding"][0]
        coding.update(system="http://snomed.info/sct", code="279039007")
    patient = resource(bundle, "Patient")
    patient["name"][0]["family"] = f"Held{n}"
    patient["identifier"][0]["value"] = f"H-{uuid.uuid4().hex[:10]}"
    patient["telecom"] = [{"system": "email", "value": f"held{n}@example.org"}]
    return bundle


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--count", type=int, default=40)
    args.add_argument("--reviews", type=int, default=10)
    args.add_argument("--mongo-url")
    opts = args.parse_args(argv)
    with ExitStack() as stack:
        mongo_url = opts.mongo_url
        if not mongo_url:
            standin = MongoStandin()
            stack.callback(standin.stop)
            mongo_url = standin.url
        admin = rabbit.RabbitAdmin(rabbit.MANAGEMENT_URL)
        vhost = admin.create_vhost()
        stack.callback(admin.delete_vhost, vhost)
        overrides = {
            "mongo_url": mongo_url,
            "mongo_db": f"bench_partner_{uuid.uuid4().hex[:8]}",
            "amqp_url": rabbit.amqp_url(vhost),
        }
        settings = load_settings("intake", environ={}, overrides=overrides)
        mongo = Mongo(settings)
        stack.callback(mongo.close)
        deps = bootstrap(settings, mongo)
        create_indexes(deps.db)
        tenants.create_tenant(
            deps, name="Clinic A", tenant_id="clinic-a", locations=[("Main", "America/New_York")]
        )
        partner = PartnerSystem(admin, vhost)
        stack.callback(partner.close)
        partners.create_partner(
            deps, partner_id=partner.partner_id, name="Bench EHR", tenants=["clinic-a"]
        )
        _, front_desk = keys.create_key(deps, "clinic-a", role="front_desk", name="bench")
        _, key = keys.create_key(
            deps, "clinic-a", role="partner", name="bench", partner_id=partner.partner_id
        )
        stop = threading.Event()
        for component in worker.components(settings, mongo):
            threading.Thread(target=component.run, args=(stop,), daemon=True).start()
        stack.callback(stop.set)
        client = create_app(overrides).test_client()
        arrivals = Arrivals(partner)
        stack.callback(arrivals.close)

        table = outcomes(client, key)

        sent: dict[str, float] = {}
        for n in range(opts.count):
            event_id = partner.refer("clinic-a", distinct_referral(n))["id"]
            sent[event_id] = time.monotonic()  # after the broker confirmed it
            time.sleep(0.2)  # a fixed rate, not a test: nothing waits on this
        wait_until(lambda: all(arrivals.first(k) for k in sent), timeout=60, message="every status")
        to_status = [arrivals.first(k) - t for k, t in sent.items()]  # type: ignore[operator]

        to_accepted, answered = [], []
        jitter = random.Random(15)
        for n in range(opts.reviews):
            receipt = client.post(
                "/referrals",
                json=held_referral(n),
                content_type=FHIR,
                headers={**bearer(key), "Idempotency-Key": f"held-{n}"},
            ).json
            assert receipt["status"] == "needs_review", receipt
            time.sleep(jitter.uniform(0, settings.outbox_poll_interval_s))  # not in step with polls
            started = time.monotonic()
            response = client.post(
                f"/referrals/{receipt['referral_id']}/review",
                json={"version": 1, "diagnoses": [{"code": "M54.50"}]},
                headers=bearer(front_desk),
            )
            assert response.json["status"] == "accepted", response.json
            answered.append(time.monotonic() - started)
            arrived = wait_until(
                lambda n=n: arrivals.first(f"held-{n}", "referral.accepted"),
                timeout=30,
                message="referral.accepted",
            )
            to_accepted.append(arrived - started)

        figures = {
            "outcomes": table,
            "publish_to_first_status": percentiles(to_status),
            "review_to_accepted_status": percentiles(to_accepted),
            "review_http_answer": percentiles(answered),
            "settings": {"outbox_poll_interval_s": settings.outbox_poll_interval_s},
        }
    print(json.dumps(figures, indent=2))
    print("\n| file | outcome | pending / fields at fault |\n| --- | --- | --- |")
    for row in table:
        print(f"| {row['file']} | {row['outcome']} | {row['detail']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
