"""The shared seams every service builds on: cache, ids, retry on conflict, paging, errors."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError, fields

from shared.cache import TtlCache
from shared.errors import ConcurrentChange, Invalid, NotFound
from shared.ids import ID_PATTERN, new_id
from shared.paging import Page, PageRequest
from shared.retry import retry_on_conflict
from shared.schemas import Strict
from shared.web.paging import page_schema


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_cached_value_is_reloaded_only_after_its_ttl():
    clock, loads = Clock(), []
    cache = TtlCache(lambda key: loads.append(key) or f"v{len(loads)}", 10, clock=clock)
    assert cache.get("a") == "v1"
    clock.now = 9.9
    assert cache.get("a") == "v1"
    clock.now = 10.0
    assert cache.get("a") == "v2"
    assert loads == ["a", "a"]


def test_a_miss_is_kept_for_the_shorter_miss_ttl():
    clock, found = Clock(), {}
    cache = TtlCache(found.get, 15, miss_ttl_s=1, clock=clock)
    assert cache.get("key") is None
    found["key"] = "issued a moment ago"
    clock.now = 0.5
    assert cache.get("key") is None
    clock.now = 1.0
    assert cache.get("key") == "issued a moment ago"


def test_a_forgotten_key_is_loaded_again_and_a_failing_load_is_not_cached():
    calls = []

    def load(key: str) -> str:
        calls.append(key)
        if len(calls) == 1:
            raise ConnectionError("store away")
        return "ok"

    cache = TtlCache(load, 60)
    with pytest.raises(ConnectionError):
        cache.get("k")
    assert cache.get("k") == "ok"
    cache.forget("k")
    assert cache.get("k") == "ok"
    assert len(calls) == 3


def test_new_ids_are_prefixed_random_and_refuse_odd_prefixes():
    ids = {new_id("pat") for _ in range(100)}
    assert len(ids) == 100 and all(ID_PATTERN.match(i) and i.startswith("pat_") for i in ids)
    with pytest.raises(ValueError):
        new_id("Pat-")


def test_retry_on_conflict_runs_again_until_the_guarded_write_wins():
    outcomes = iter([None, None, "saved"])
    assert retry_on_conflict(lambda: next(outcomes)) == "saved"


def test_retry_on_conflict_gives_up_with_a_409_after_its_attempts():
    attempts = []
    with pytest.raises(ConcurrentChange) as raised:
        retry_on_conflict(lambda: attempts.append(1), what="plan pln_1")
    assert len(attempts) == 3 and raised.value.status == 409
    assert "plan pln_1 kept changing" in raised.value.message


def test_use_case_errors_carry_their_status_and_field_errors():
    invalid = Invalid.one("expires_on", "is before valid_from")
    assert invalid.status == 422 and invalid.errors == {"expires_on": ["is before valid_from"]}
    assert invalid.reasons() == [{"field": "expires_on", "message": "is before valid_from"}]
    assert NotFound("no plan 'x'").status == 404


def test_a_page_request_is_capped_and_skips_whole_pages():
    request = PageRequest(page=3, page_size=500).capped(100)
    assert (request.page_size, request.skip) == (100, 200)


def test_a_page_dumps_as_items_page_page_size_and_total():
    class ThingSchema(Strict):
        thing_id = fields.String()

    schema = page_schema(ThingSchema)
    assert schema.__name__ == "ThingPageSchema" and page_schema(ThingSchema) is schema
    page = Page.of([{"thing_id": "a", "hidden": 1}], PageRequest(2, 1), total=2)
    assert schema().dump(page) == {
        "items": [{"thing_id": "a"}],
        "page": 2,
        "page_size": 1,
        "total": 2,
    }


def test_a_page_of_a_list_in_hand_is_its_window_and_counts_the_whole_list():
    letters = list("abcde")
    assert Page.of_list(letters, PageRequest(2, 2)) == Page(["c", "d"], 2, 2, 5)
    assert Page.of_list(letters, PageRequest(4, 2)) == Page([], 4, 2, 5)


def test_strict_schemas_refuse_unknown_fields():
    class BodySchema(Strict):
        name = fields.String()

    with pytest.raises(ValidationError) as raised:
        BodySchema().load({"name": "x", "tenant_id": "other"})
    assert "tenant_id" in raised.value.messages
