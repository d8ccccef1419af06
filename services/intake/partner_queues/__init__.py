"""Partners' status queues on the broker: declared by the intake worker (`status_queues.py`)."""
