"""Sending with fewer round trips, and nothing lost for it: deliveries due at once are claimed as
they are planned and handed to the senders in memory; one SMTP connection serves a burst of
emails; the PHI guard's quick word check finds exactly what its patterns find."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller

from services.notifications.bootstrap import SenderTuning, build_deps, sender_loops
from services.notifications.channels.email import SmtpSender
from services.notifications.consumers import inbox_handlers
from services.notifications.domain import phi_guard
from services.notifications.repository.deliveries import DeliveryStore
from services.notifications.repository.indexes import create_indexes
from services.notifications.repository.tenant_configs import TenantConfigs
from services.notifications.senders.handoff import Handoff, NewDeliveries
from shared.mongo import Mongo
from testkit.mongo_commands import CommandCapture
from testkit.processes import free_port
from tests.integration.notifications.harness import GivenDatabase
from tests.support.notifications_events import TENANT, referral_accepted

LEASE_S = 30


@pytest.fixture
def counted_db(settings):
    commands = CommandCapture()
    mongo = Mongo(settings, [commands])
    create_indexes(mongo.db)
    TenantConfigs(mongo.db).put(TENANT, {"quiet_hours": None}, datetime.now(UTC))
    yield mongo.db, commands
    mongo.close()


@pytest.fixture
def handed(settings, counted_db, clock):
    """The planner and one sender loop sharing a handoff, as the worker wires them."""
    db, _ = counted_db
    deps = build_deps(settings, GivenDatabase(db), clock=clock, cache_ttl_s=0)
    handoff = Handoff(LEASE_S, capacity=16, clock=clock)
    tuning = SenderTuning(threads=1, lease_s=LEASE_S, channel_timeout_s=5)
    [loop] = sender_loops(deps, tuning, handoff)
    handlers = inbox_handlers(deps, NewDeliveries(deps.deliveries, handoff, clock).save)
    return (lambda event: handlers[event.type](event)), loop, handoff


def test_deliveries_due_now_are_claimed_as_they_are_planned_and_sent_without_a_claim(
    handed, counted_db, inbox
):
    plan, loop, handoff = handed
    db, commands = counted_db
    plan(referral_accepted("pat-1", email="maria@example.org"))
    due = list(db.deliveries.find({"status": "queued"}))
    assert {d["template"] for d in due} == {"patient_welcome", "referrer_referral_accepted"}
    assert all(d["claimed_by"] == handoff.worker_id and d["attempts"] == 1 for d in due)
    assert all("claim" not in d for d in db.deliveries.find({"status": "suppressed"}))

    commands.clear()
    while loop.run_once(from_store=False):
        pass

    assert commands.counts["findAndModify"] == 0  # no claim: the insert was the claim
    assert sorted(to for mail in inbox.mails for to in mail.to) == [
        "dr.lee@practice.example",
        "maria@example.org",
    ]
    assert {d["status"] for d in db.deliveries.find({"_id": {"$in": [d["_id"] for d in due]}})} == {
        "sent"
    }


def test_a_stopping_worker_gives_back_what_it_did_not_send(handed, counted_db, clock, inbox):
    plan, loop, handoff = handed
    db, _ = counted_db
    plan(referral_accepted("pat-2", email="ana@example.org", referrer_email=None))

    handoff.release(DeliveryStore(db.deliveries))

    [welcome] = db.deliveries.find({"status": "queued"})
    assert "claim" not in welcome and welcome["attempts"] == 0 and welcome["send_at"] == clock()
    assert loop.run_once() is True  # claimed from the store as any due delivery
    assert [mail.to for mail in inbox.mails] == [("ana@example.org",)]


def test_a_handed_delivery_past_half_its_lease_is_left_to_the_store(handed, counted_db, clock):
    plan, loop, handoff = handed
    plan(referral_accepted("pat-3", email="li@example.org", referrer_email=None))
    clock.advance(seconds=LEASE_S / 2 + 1)
    assert handoff.take() is None
    clock.advance(seconds=LEASE_S)  # its lease ran out: due in the store again
    assert loop.run_once() is True


# --- one SMTP connection for a burst ---------------------------------------------------------


class CountingServer:
    def __init__(self) -> None:
        self.greetings = 0
        self.recipients: list[str] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.recipients += envelope.rcpt_tos
        return "250 2.0.0 Queued"


@pytest.fixture
def server() -> Iterator[tuple[CountingServer, list[Controller], int]]:
    handler, port = CountingServer(), free_port()
    controllers = [Controller(handler, hostname="127.0.0.1", port=port)]
    controllers[0].start()
    yield handler, controllers, port
    controllers[-1].stop()


def test_one_connection_carries_a_burst_of_emails(server):
    handler, _, port = server
    sender = SmtpSender("127.0.0.1", port, "clinic@calmhands.example", timeout=5)
    for n in range(3):
        sender.send(f"p{n}@example.org", "Hi", "Body", delivery_key=f"k{n}")
    assert handler.greetings == 1
    assert handler.recipients == ["p0@example.org", "p1@example.org", "p2@example.org"]


def test_a_kept_connection_the_server_dropped_is_replaced_and_the_email_goes_once(server):
    handler, controllers, port = server
    sender = SmtpSender("127.0.0.1", port, "clinic@calmhands.example", timeout=5)
    sender.send("first@example.org", "Hi", "Body", delivery_key="k1")
    controllers[0].stop()  # the server goes away, and comes back: our kept connection is dead
    controllers.append(Controller(handler, hostname="127.0.0.1", port=port))
    controllers[-1].start()

    sender.send("second@example.org", "Hi", "Body", delivery_key="k2")

    assert handler.recipients == ["first@example.org", "second@example.org"]
    assert handler.greetings == 2


# --- the PHI guard's quick check -------------------------------------------------------------


def reference_leaks(text: str, terms: list[str]) -> list[tuple[str, str, str]]:
    """The guard without its word-set shortcut: every pattern searched."""
    folded = phi_guard._fold(text)
    found = []
    for kind, listed in (("builtin", phi_guard.BUILTIN_TERMS), ("event", tuple(terms))):
        for index, term in enumerate(listed):
            needle = phi_guard._fold(term).strip()
            if needle and re.search(phi_guard._term_pattern(needle), folded):
                found.append((kind, f"{kind} term #{index}", term))
    return found


@pytest.mark.parametrize(
    "text",
    [
        "Welcome! Please complete your health history: https://x.example/intake/M54-token",
        "Your LOW   back pain and ICD-10 code M54.50; pre-eclampsia; Cervicalgia.",
        "Ciática y migraña; diagnóstico pendiente; lumbalgia",
        "non-diabetic; fibromyalgias; a sprained ankle; strain injury",
        "See you Thursday at 10:00 in Room 2.",
    ],
)
def test_the_quick_word_check_finds_exactly_what_the_patterns_find(text):
    terms = ["Low back pain, unspecified", "Cervicalgia", "lower back", "(odd) term", "  "]
    assert phi_guard.find_leaks(text, terms) == reference_leaks(text, terms)
