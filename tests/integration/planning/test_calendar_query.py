"""The calendar's query (`GET /sessions`, the console's page 8): by location, by therapist and by
room within a window, each one a tenant-scoped `$elemMatch` on the session fields of an index
that leads with the tenant (a multikey index on the embedded sessions), so a clinic's week is
found without reading other plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.planning import bootstrap
from services.planning.repository.indexes import PLAN_INDEXES
from services.planning.repository.plans import COLLECTION
from services.planning.usecases import sessions
from shared.mongo import Mongo
from shared.paging import PageRequest
from shared.web.auth import Principal
from testkit.mongo_commands import CommandCapture

START = datetime(2026, 12, 7, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("criteria", "index"),
    [
        ({"location_id": "loc-main"}, "tenant_location_sessions"),
        ({"therapist_id": "usr_sam"}, "tenant_therapist_sessions"),
        ({"location_id": "loc-main", "room_id": "2"}, "tenant_room_sessions"),
    ],
)
def test_each_calendar_filter_is_an_elem_match_on_an_index_that_leads_with_the_tenant(
    planning_settings, mongo, criteria, index
):
    seen: list[dict] = []

    class Shapes(CommandCapture):
        def started(self, event):
            if event.command_name == "find" and event.command.get("find") == COLLECTION:
                seen.append(dict(event.command["filter"]))

    watched = Mongo(planning_settings, listeners=[Shapes()])
    deps = bootstrap.build(planning_settings, watched)
    desk = Principal(key_id="k", tenant_id="clinic-a", role="front_desk", name="desk")
    end = START + timedelta(days=7)
    sessions.list_sessions(deps, desk, START, end, criteria, PageRequest())
    watched.close()
    [shape] = seen
    keys = next(tuple(m.document["key"]) for m in PLAN_INDEXES if m.document["name"] == index)
    assert keys[0] == "tenant_id" and shape["tenant_id"] == "clinic-a"
    matched = shape["sessions"]["$elemMatch"]
    assert {f"sessions.{field}" for field in matched} >= set(keys[1:]), (shape, index)
    assert set(matched["starts_at"]) == {"$gte", "$lt"}
