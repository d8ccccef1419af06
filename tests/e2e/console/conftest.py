"""The console's browser tests share one running system (the six service processes and the
console, on stores of their own, and the SMTP inbox they send to): each test opens a clinic of
its own (its own tenant, people and addresses), so they cannot see each other's data, and the
slow start of seven processes is paid once, not once per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testkit.browser import chromium
from testkit.rabbit import RabbitAdmin
from testkit.smtp import SmtpInbox
from testkit.stack import LocalStack, own_stack


@pytest.fixture(scope="package")
def system(
    mongo_url: str, rabbit_admin: RabbitAdmin, tmp_path_factory
) -> Iterator[tuple[LocalStack, SmtpInbox]]:
    """One system for the directory's browser tests. They sign many people in from one address
    within a minute, so the per-address sign-in limit (proved in intake's own tests) is lifted."""
    log_dir = tmp_path_factory.mktemp("console-system")
    unlimited = {"SIGN_IN_RATE_LIMIT": "10000"}
    with own_stack(mongo_url, rabbit_admin, log_dir, unlimited) as running:
        yield running


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the directory; each test opens its own contexts (its own cookies)."""
    with chromium() as running:
        yield running
