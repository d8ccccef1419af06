"""Who published a message, through the hops the consumer and the DLQ tool send it on.

The messages are the three fields `origin_of` reads (delivery info, headers, properties), as
kombu and py-amqp deliver them; the broker-facing paths are tested in the integration tests.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shared.events import InvalidEvent
from shared.events.origin import (
    FORGED_HEADERS_HEADER,
    ORIGINAL_USER_ID_HEADER,
    Origin,
    origin_of,
)

DIRECT = {"exchange": "partner.referrals", "routing_key": "acme.referral.requested"}
BACK = {"exchange": "dlx", "routing_key": "intake.partner-referrals.requeue"}


def message(delivery_info, headers=None, user_id=None):
    properties = {"user_id": user_id} if user_id else {}
    return SimpleNamespace(
        delivery_info=delivery_info, headers=headers or {}, properties=properties
    )


def hop(origin: Origin, headers=None):
    """The copy the service republishes through `dlx`, as it is delivered back."""
    return message(BACK, origin.stamp(dict(headers or {})))


def test_a_direct_publish_is_from_the_user_the_broker_validated():
    origin = origin_of(message(DIRECT, user_id="acme"))
    assert origin == Origin("partner.referrals", "acme.referral.requested", "acme")
    origin.check()


def test_the_origin_survives_any_number_of_hops_through_dlx():
    first = origin_of(message(DIRECT, {"x-retry-count": 0}, user_id="acme"))
    again = origin_of(hop(origin_of(hop(first))))
    assert again == first


def test_a_direct_publish_that_sets_the_identity_header_itself_is_refused():
    origin = origin_of(message(DIRECT, {ORIGINAL_USER_ID_HEADER: "other"}, user_id="acme"))
    assert origin.user_id == "acme" and origin.forged == (ORIGINAL_USER_ID_HEADER,)
    with pytest.raises(InvalidEvent, match=ORIGINAL_USER_ID_HEADER):
        origin.check()


def test_a_forgery_is_still_refused_after_a_hop_and_still_names_the_real_sender():
    forged = origin_of(message(DIRECT, {ORIGINAL_USER_ID_HEADER: "other"}, user_id="acme"))
    copy = hop(forged)
    assert copy.headers[ORIGINAL_USER_ID_HEADER] == "acme"
    assert copy.headers[FORGED_HEADERS_HEADER] == ORIGINAL_USER_ID_HEADER
    with pytest.raises(InvalidEvent):
        origin_of(copy).check()


def test_an_anonymous_publish_stays_anonymous_through_a_hop():
    assert origin_of(hop(origin_of(message(DIRECT)))).user_id is None


def test_a_broker_dead_letter_is_from_its_user_id_and_first_death_whatever_its_headers_say():
    deaths = [
        {
            "queue": "intake.partner-referrals",
            "reason": "delivery_limit",
            "exchange": "partner.referrals",
            "routing-keys": ["acme.referral.requested"],
        }
    ]
    dead = message(
        {"exchange": "dlx", "routing_key": "intake.partner-referrals"},
        {"x-death": deaths, ORIGINAL_USER_ID_HEADER: "other"},
        user_id="acme",
    )
    origin = origin_of(dead)
    assert (origin.exchange, origin.routing_key, origin.user_id) == (
        "partner.referrals",
        "acme.referral.requested",
        "acme",
    )
    assert origin.forged == (ORIGINAL_USER_ID_HEADER,)


def test_stamping_replaces_every_origin_header_and_keeps_the_others():
    origin = Origin("partner.referrals", "acme.referral.requested", "acme")
    stamped = origin.stamp({ORIGINAL_USER_ID_HEADER: "other", FORGED_HEADERS_HEADER: "x", "k": 1})
    assert stamped[ORIGINAL_USER_ID_HEADER] == "acme"
    assert FORGED_HEADERS_HEADER not in stamped and stamped["k"] == 1
