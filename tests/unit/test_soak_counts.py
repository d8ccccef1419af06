"""The soak's counting rules (tools/soak/tally.py): exactly once by key, emails by content."""

from __future__ import annotations

from testkit.smtp import Mail
from tools.soak.tally import email_count, exactly_once


def mail(key: str, to: str, subject: str, text: str = "Hello.", message_id: str = "") -> Mail:
    return Mail(key=key, to=(to,), subject=subject, text=text, message_id=message_id or key)


def test_each_key_once_is_neither_lost_nor_doubled():
    count = exactly_once(["a", "b"], ["b", "a"])
    assert (count.expected, count.found, count.lost, count.doubled) == (2, 2, 0, 0)


def test_a_missing_key_is_lost_and_a_repeated_or_unexpected_one_doubled():
    count = exactly_once(["a", "b", "c"], ["a", "a", "b", "z"])
    assert (count.lost, count.doubled) == (1, 2)


def test_the_same_email_twice_under_two_message_ids_is_doubled():
    mails = [
        mail("1", "p@x.example", "Welcome", message_id="<one@x>"),
        mail("2", "p@x.example", "Welcome", message_id="<two@x>"),
    ]
    count, detail = email_count(mails, {"p@x.example": 1})
    assert (count.lost, count.doubled) == (0, 1)
    assert detail["same_content_twice"] == 1


def test_one_email_more_than_due_is_doubled_even_when_its_content_differs():
    mails = [mail("1", "r@x.example", "Accepted"), mail("2", "r@x.example", "Accepted", "Again.")]
    count, detail = email_count(mails, {"r@x.example": 1})
    assert (count.lost, count.doubled) == (0, 1)
    assert detail["more_than_due"] == 1


def test_an_email_short_is_lost_and_an_unexpected_address_is_named():
    mails = [mail("1", "r@x.example", "Accepted"), mail("2", "who@x.example", "Hm")]
    count, detail = email_count(mails, {"r@x.example": 2})
    assert (count.expected, count.found, count.lost) == (2, 2, 1)
    assert detail["to_unexpected_addresses"] == ["who@x.example"]


def test_the_same_email_resent_under_its_message_id_is_reported_apart_not_doubled():
    mails = [
        mail("1", "r@x.example", "Plan", message_id="<d1@x>"),
        mail("2", "r@x.example", "Plan", message_id="<d1@x>"),
    ]
    count, detail = email_count(mails, {"r@x.example": 1})
    assert (count.lost, count.doubled) == (0, 0)
    assert detail["resent_same_message_id"] == 1
    assert detail["twice"] == [
        {"to": ["r@x.example"], "subject": "Plan", "copies": 2, "message_ids": ["<d1@x>"]}
    ]
