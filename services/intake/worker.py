"""Worker process of the intake service: `python -m services.intake.worker`.

Components: the outbox relay (intake's events and partner status), the consumer of partner
referrals (`intake.partner-referrals`) and of planning's milestones of their care
(`intake.planning-events`), and the declaration of partner status queues.
"""

from __future__ import annotations

import sys

from services.intake.bootstrap import bootstrap
from services.intake.consumers import PartnerInbox, PlanningEvents
from services.intake.partner_queues.status_queues import PartnerStatusQueues
from services.intake.repository.indexes import OUTBOX_COLLECTIONS, create_indexes
from shared.config import Settings
from shared.events import event_components
from shared.events.topology import PARTNER_STATUS_EXCHANGE
from shared.mongo import Mongo
from shared.worker import Component, run_worker


def components(settings: Settings, mongo: Mongo) -> list[Component]:
    deps = bootstrap(settings, mongo)
    create_indexes(deps.db)
    event_parts = event_components(
        settings,
        mongo,
        outbox_collections=OUTBOX_COLLECTIONS,
        subscriptions=[PartnerInbox(deps).subscription(), PlanningEvents(deps).subscription()],
        publishes_to=[PARTNER_STATUS_EXCHANGE],
    )
    queues = PartnerStatusQueues(deps)
    queues.declare(only_new=False)  # before the relay runs: no known partner's status unroutable
    return [queues, *event_parts]


def main() -> int:
    return run_worker("intake", components)


if __name__ == "__main__":
    sys.exit(main())
