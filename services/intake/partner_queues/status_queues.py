"""Each partner's status queue: `partner.<partner_id>.status`, bound to `partner.status` with `<partner_id>.#`.

The outbox relay treats an unroutable publish (NO_ROUTE) as "stay pending and retry", so a
partner without its queue would pile up status events. The intake worker therefore declares the
queue of every partner when it starts, and of each new partner within seconds of its creation
(`PartnerStatusQueues`, a worker component). The queue is quorum with no other arguments: the
broker's `partner-status-queues` policy (`shared.events.policies`, in
deploy/rabbitmq/definitions.json) sets its length limit with overflow `reject-publish` (a partner
that stops reading holds its further statuses in intake's outbox, never loses the oldest) and
its TTL, and a declaration with other arguments would conflict with the broker definitions.

This is the one place in intake's service code that speaks to the broker directly (a queue
declaration is topology, which the shared event machinery declares only for consumers): an
adapter of its own, beside the repository that records which queues are declared.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from services.intake.bootstrap import Deps
from services.intake.repository.partners import Partners
from shared import broker
from shared.config import Settings
from shared.events.topology import PARTNER_STATUS_EXCHANGE

log = logging.getLogger("intake.partner_queues")
CHECK_EVERY_S = 2.0


def status_queue_name(partner_id: str) -> str:
    return f"partner.{partner_id}.status"


def declare_status_queues(settings: Settings, partner_ids: Iterable[str]) -> list[str]:
    """Declare and bind the status queues of these partners (idempotent); returns their names."""
    declared = []
    with broker.connection(settings) as connection:
        channel = connection.channel()
        channel.exchange_declare(PARTNER_STATUS_EXCHANGE, "topic", durable=True, auto_delete=False)
        for partner_id in partner_ids:
            queue = status_queue_name(partner_id)
            channel.queue_declare(
                queue, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"}
            )
            channel.queue_bind(queue, PARTNER_STATUS_EXCHANGE, f"{partner_id}.#")
            declared.append(queue)
    return declared


class PartnerStatusQueues:
    """Worker component: declares every partner's status queue at start, then each new one."""

    name = "partner-status-queues"

    def __init__(self, deps: Deps, check_every_s: float = CHECK_EVERY_S) -> None:
        self.deps = deps
        self.check_every_s = check_every_s

    def declare(self, only_new: bool) -> int:
        partners = Partners(self.deps.db)
        ids = partners.ids(only_undeclared=only_new)
        if not ids:
            return 0
        declare_status_queues(self.deps.settings, ids)
        partners.mark_declared(ids)
        log.info("partner status queues declared", extra={"partners": ids})
        return len(ids)

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.check_every_s):
            try:
                self.declare(only_new=True)
            except Exception as error:  # broker or store briefly away: try again next round
                log.warning("declaring partner status queues failed", extra={"error": repr(error)})
