"""The console's browser tests share one running system (the six service processes and the
console, on stores of their own, and the SMTP inbox they send to): each test opens a clinic of
its own (its own tenant, people and addresses), so they cannot see each other's data, and the
slow start of seven processes is paid once, not once per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pymongo
import pytest

from testkit.browser import chromium
from testkit.rabbit import RabbitAdmin, amqp_url
from testkit.smtp import SmtpInbox, smtp_server
from testkit.stack import LocalStack


@pytest.fixture(scope="package")
def system(
    mongo_url: str, rabbit_admin: RabbitAdmin, tmp_path_factory
) -> Iterator[tuple[LocalStack, SmtpInbox]]:
    vhost = rabbit_admin.create_vhost()
    prefix = f"t_{uuid.uuid4().hex[:12]}"
    with smtp_server() as (inbox, smtp_port):
        stack = LocalStack(
            mongo_url=mongo_url,
            db_prefix=prefix,
            amqp_url=amqp_url(vhost),
            log_dir=tmp_path_factory.mktemp("console-system"),
            smtp_port=smtp_port,
        )
        try:
            yield stack.start(), inbox
        finally:
            stack.stop()
            rabbit_admin.delete_vhost(vhost)
            client = pymongo.MongoClient(mongo_url)
            for name in client.list_database_names():
                if name.startswith(prefix):
                    client.drop_database(name)
            client.close()


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the directory; each test opens its own contexts (its own cookies)."""
    with chromium() as running:
        yield running
