"""RabbitMQ connections (kombu): heartbeats on, bounded connect timeouts, never at import time."""

from __future__ import annotations

from kombu import Connection

from shared.config import Settings


def connection(settings: Settings, *, connect_timeout: float = 5.0) -> Connection:
    return Connection(
        settings.amqp_url,
        heartbeat=settings.amqp_heartbeat_s,
        connect_timeout=connect_timeout,
        transport_options={
            "confirm_publish": True,
            "confirm_timeout": settings.amqp_confirm_timeout_s,
        },
    )


def ping(settings: Settings, timeout: float = 2.0) -> None:
    """Readiness: open and close a connection to the broker within `timeout` seconds."""
    conn = Connection(settings.amqp_url, connect_timeout=timeout, heartbeat=0)
    try:
        conn.connect()
    finally:
        conn.release()
