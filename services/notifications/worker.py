"""Worker process of the notifications service: `python -m services.notifications.worker`.

Components (wired in `bootstrap.components`): the event consumer (events -> deliveries, contact
directory, access replicas), the outbox relay (`notification.sent` / `notification.failed`),
and the sender loops that deliver due deliveries, reminders included (they are deliveries with
a later `send_at`).
"""

from __future__ import annotations

import sys

from shared.worker import run_worker

from .bootstrap import components


def main() -> int:
    return run_worker("notifications", components)


if __name__ == "__main__":
    sys.exit(main())
