"""Tools run as modules from the repository root: the development stack (`-m tools.devstack`),
the demo (`-m tools.demo`) and the benchmark (`-m tools.bench`). They reach the system through
`testkit` and never import `tests` (tests/unit/test_import_layers.py checks it)."""
