"""The schemas of each event's `data`, by publisher (`<publisher>.py`), named in the catalogue's
`PAYLOADS` (shared/events/catalog.py) and documented in docs/events.md."""
