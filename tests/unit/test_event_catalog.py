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
