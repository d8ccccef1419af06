"""RabbitMQ connections (kombu): heartbeats on, bounded connect timeouts, never at import time.

Every connection names its process to the broker (client properties `connection_name`,
`service`, `pid`: seen in the management UI and API) and is counted in
`process_connections_opened_total{kind="amqp",pid}`, so one can tell which process, and which
gunicorn worker, opened it.
"""

from __future__ import annotations

import os
from typing import Any

from kombu import Connection

from shared.config import Settings
from shared.metrics import CONNECTIONS_OPENED


def client_properties(settings: Settings) -> dict[str, Any]:
    """What the broker shows of the process that opens a connection (now: after any fork)."""
    pid = os.getpid()
    return {
        "connection_name": f"{settings.service} pid {pid}",
        "service": settings.service,
        "pid": pid,
    }


def connection(settings: Settings, *, connect_timeout: float = 5.0) -> Connection:
    CONNECTIONS_OPENED.labels(kind="amqp", pid=str(os.getpid())).inc()
    return Connection(
        settings.amqp_url,
        heartbeat=settings.amqp_heartbeat_s,
        connect_timeout=connect_timeout,
        transport_options={
            "confirm_publish": True,
            "confirm_timeout": settings.amqp_confirm_timeout_s,
            "client_properties": client_properties(settings),
        },
    )


def ping(settings: Settings, timeout: float = 2.0) -> None:
    """Readiness: open and close a connection to the broker within `timeout` seconds."""
    CONNECTIONS_OPENED.labels(kind="amqp", pid=str(os.getpid())).inc()
    conn = Connection(
        settings.amqp_url,
        connect_timeout=timeout,
        heartbeat=0,
        transport_options={"client_properties": client_properties(settings)},
    )
    try:
        conn.connect()
    finally:
        conn.release()
