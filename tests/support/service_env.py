"""The environment of a service run as a real process against given stores (the `service_env`
fixture's, and a module's own for processes it shares across its tests)."""

from __future__ import annotations

import os

from testkit.rabbit import amqp_url


def process_env(
    service: str, mongo_url: str, db_prefix: str, vhost: str, token_keys, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR",)}
    env.update(
        MONGO_URL=mongo_url,
        MONGO_DB=f"{db_prefix}_{service}",
        AMQP_URL=amqp_url(vhost),
        PYTHONUNBUFFERED="1",
        **token_keys,
    )
    env.update(extra)
    return env
