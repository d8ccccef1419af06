"""Fixtures for end-to-end tests that run the whole system."""

from __future__ import annotations

import pytest

from testkit.rabbit import amqp_url
from testkit.smtp import smtp_server
from testkit.stack import LocalStack


@pytest.fixture
def system(mongo_url, mongo_db_name, vhost, tmp_path):
    """All six service processes on this test's stores, and the SMTP inbox they send to."""
    with smtp_server() as (inbox, smtp_port):
        stack = LocalStack(
            mongo_url=mongo_url,
            db_prefix=mongo_db_name,
            amqp_url=amqp_url(vhost),
            log_dir=tmp_path,
            smtp_port=smtp_port,
        )
        try:
            yield stack.start(), inbox
        finally:
            stack.stop()
