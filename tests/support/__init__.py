"""Test-only harnesses shared by several test folders: they write a service's database directly,
build its events, or run its parts in this process. Only tests import them; what the demo and
the benchmark share with the tests is `testkit`. A harness that serves one folder lives there
(e.g. tests/integration/notifications/harness.py)."""
