"""The event catalogue is the one list: docs/events.md documents exactly its types, by publisher."""

import re
from pathlib import Path

import pytest

from shared.events import catalog

ROOT = Path(__file__).resolve().parents[2]


def documented_types() -> dict[str, str]:
    """type -> publisher, from the tables under each `## <publisher> (...)` heading."""
    found, publisher = {}, None
    for line in (ROOT / "docs" / "events.md").read_text().splitlines():
        heading = re.match(r"^## (\w+) \(`source: clinic/\1`", line)
        if heading:
            publisher = heading.group(1)
        elif line.startswith("## "):
            publisher = None
        elif publisher and line.startswith("| `"):
            names = re.findall(r"`([a-z_]+\.[a-z_]+)`", line.split("|")[1])
            found.update(dict.fromkeys(names, publisher))
    return found


def test_docs_events_md_lists_exactly_the_catalogue_by_publisher():
    assert documented_types() == {t.name: t.publisher for t in catalog.CATALOG.values()}


def test_bindings_name_the_publishing_exchange_of_each_type():
    assert catalog.bindings(["plan.drafted", "referral.accepted", "plan.drafted"]) == [
        ("planning.events", "plan.drafted"),
        ("intake.events", "referral.accepted"),
    ]


def test_an_unknown_type_is_refused_with_where_to_add_it():
    with pytest.raises(catalog.UnknownEventType, match="shared/events/catalog.py"):
        catalog.exchange_of("plan.exploded")


def heard_by_the_services() -> set[str]:
    """Every type some service's worker has a handler for (what its queues are bound to)."""
    from collections import defaultdict
    from types import SimpleNamespace

    from services.intake.domain.milestones import OF_PLANNING_EVENT
    from services.notifications.consumers import planned_event_types
    from services.planning.consumers import handlers as planning_handlers
    from shared.replicas import replica_handlers

    names_only = SimpleNamespace(db=defaultdict(lambda: None), zones=None)  # no handler runs
    return (
        set(OF_PLANNING_EVENT)
        | set(planning_handlers(names_only))  # type: ignore[arg-type]
        | set(planned_event_types())
        | set(replica_handlers(None, None, None))  # type: ignore[arg-type]
    )


def test_the_unheard_types_are_exactly_those_no_service_consumes():
    heard = heard_by_the_services()
    assert heard <= set(catalog.CATALOG)
    assert set(catalog.CATALOG) - heard == catalog.UNHEARD


def test_each_publisher_binds_its_unheard_types_to_its_own_sink():
    assert catalog.unheard_bindings("notifications") == {
        "notifications.events": ["notification.failed", "notification.sent"]
    }
    assert catalog.unheard_bindings("planning") == {
        "planning.events": [
            "plan.cannot_plan", "plan.drafted", "plan.held", "session.completed", "session.no_show"
        ]
    }  # fmt: skip
    assert catalog.unheard_bindings("intake") == {}


def test_a_queue_once_bound_to_every_type_unbinds_those_it_no_longer_handles():
    stale = catalog.stale_bindings(["plan.activated"], ["planning"])
    assert ("planning.events", "plan.activated") not in stale
    assert ("planning.events", "plan.drafted") in stale
    assert len(stale) == len(catalog.published_by("planning")) - 1
