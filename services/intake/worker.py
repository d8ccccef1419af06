"""Worker process of the intake service: `python -m services.intake.worker`."""

from __future__ import annotations

import sys

from shared.config import Settings
from shared.mongo import Mongo
from shared.worker import Component, run_worker


def components(settings: Settings, mongo: Mongo) -> list[Component]:
    return []


def main() -> int:
    return run_worker("intake", components)


if __name__ == "__main__":
    sys.exit(main())
