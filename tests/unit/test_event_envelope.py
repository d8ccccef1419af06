import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import context
from shared.events import InvalidEvent, new_event, parse_event


def test_a_new_event_round_trips_through_json():
    event = new_event(
        "referral.accepted",
        source="clinic/intake",
        tenant_id="t1",
        data={"referral_id": "r1"},
        subject="r1",
    )
    parsed = parse_event(event.to_json())
    assert parsed == event
    assert parsed.key == f"clinic/intake#{event.id}"


def test_the_correlation_id_of_the_current_request_is_carried():
    with context.bound(request="req-1", correlation="corr-7"):
        event = new_event("x.happened", source="s", tenant_id="t", data={})
    assert event.correlation_id == "corr-7"
    assert json.loads(event.to_json())["correlationid"] == "corr-7"


@pytest.mark.parametrize(
    "change, named",
    [
        ({"specversion": "0.3"}, "specversion"),
        ({"id": ""}, "id"),
        ({"type": None}, "type"),
        ({"time": "yesterday"}, "time"),
        ({"tenantid": None}, "tenantid"),
        ({"source": "has spaces"}, "source"),
    ],
)
def test_an_invalid_envelope_is_refused_naming_the_attribute(change, named):
    document = new_event("a.b", source="s", tenant_id="t", data={}).to_dict()
    document.update(change)
    document = {k: v for k, v in document.items() if v is not None}
    with pytest.raises(InvalidEvent, match=named):
        parse_event(document)


def test_a_missing_data_attribute_is_refused():
    document = new_event("a.b", source="s", tenant_id="t", data={}).to_dict()
    del document["data"]
    with pytest.raises(InvalidEvent, match="data"):
        parse_event(document)


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b"42"])
def test_undecodable_bodies_are_refused_with_a_reason(body):
    with pytest.raises(InvalidEvent) as error:
        parse_event(body)
    assert error.value.reason


@given(st.binary(max_size=200))
def test_parsing_arbitrary_bytes_either_succeeds_or_raises_invalid_event(body):
    with contextlib.suppress(InvalidEvent):
        parse_event(body)
