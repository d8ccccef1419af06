"""What the tests, the demo and the benchmark share: the system's parts as real processes, and
clients that reach them only through their public interfaces (HTTP, AMQP, SMTP, the ops CLI,
the RabbitMQ management API), plus local fakes of the third parties beyond reach.

`testkit` never imports `tests` or `tools` (tests/unit/test_import_layers.py checks it).
"""
