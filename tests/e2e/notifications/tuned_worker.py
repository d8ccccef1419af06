"""The notifications worker as a real process, with test tuning read from the environment:

    NOTIFICATIONS_TEST_LEASE_S=3 NOTIFICATIONS_TEST_SENDERS=1 python -m tests.e2e.notifications.tuned_worker

It is `services.notifications.worker` with a shorter lease (so a killed worker's delivery is
taken over in seconds, not minutes) and a chosen number of sender threads.
"""

from __future__ import annotations

import os
import sys
from functools import partial

from services.notifications.bootstrap import SenderTuning, components
from shared.worker import run_worker


def tuning_from_env() -> SenderTuning:
    return SenderTuning(
        lease_s=float(os.environ.get("NOTIFICATIONS_TEST_LEASE_S", "3")),
        threads=int(os.environ.get("NOTIFICATIONS_TEST_SENDERS", "1")),
        channel_timeout_s=5.0,
    )


if __name__ == "__main__":
    sys.exit(run_worker("notifications", partial(components, tuning=tuning_from_env())))
