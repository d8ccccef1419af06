"""The payload schemas of the events between the services: one module per publisher, each
naming its schemas in a `PAYLOADS` dict (type -> schema) that `shared.events.catalog` reads."""
