"""Worker process of the notifications service: `python -m services.notifications.worker`."""

from __future__ import annotations

import sys

from shared.config import Settings
from shared.mongo import Mongo
from shared.worker import Component, run_worker


def components(settings: Settings, mongo: Mongo) -> list[Component]:
    return []


def main() -> int:
    return run_worker("notifications", components)


if __name__ == "__main__":
    sys.exit(main())
