"""The soak's counts once the system has settled: what should exist exactly once, and does.

Emails are counted at the SMTP server by content (recipients, subject and text), not by
Message-ID: a message sent twice under two ids is still doubled. Each patient and each referrer
of the soak has an address of their own, so every message is told apart by whom it went to;
the staff inbox is shared, and gets one message per referral.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from testkit.smtp import Mail

# What each step of a case makes the referrer hear: the acceptance, the plan summary once it is
# approved, a progress report after the session (every session: the soak's clinic setting) and
# the discharge report. The patient hears the welcome; the staff inbox the new referral.
REFERRER_LETTERS_BY_STEP = {
    "intake": 1,
    "plan": 1,
    "book": 2,
    "treat": 2,
    "discharge": 3,
    "done": 4,
}


@dataclass(frozen=True)
class Count:
    expected: int
    found: int
    lost: int
    doubled: int

    def to_json(self) -> dict[str, int]:
        return {
            "expected": self.expected,
            "found": self.found,
            "lost": self.lost,
            "doubled": self.doubled,
        }


def exactly_once(expected: Iterable[str], found: Iterable[str]) -> Count:
    """Each expected key found once: a missing one is lost, each extra copy doubled; keys
    found but never expected are doubled too (something made up)."""
    wanted, seen = Counter(expected), Counter(found)
    lost = sum(max(0, n - seen[key]) for key, n in wanted.items())
    doubled = sum(max(0, n - wanted[key]) for key, n in seen.items())
    return Count(sum(wanted.values()), sum(seen.values()), lost, doubled)


def content(mail: Mail) -> tuple[tuple[str, ...], str, str]:
    return (tuple(sorted(mail.to)), mail.subject, mail.text.strip())


def email_count(
    mails: Iterable[Mail], expected_per_address: Mapping[str, int]
) -> tuple[Count, dict[str, Any]]:
    """The messages each address should have had, against what the SMTP server took: a copy
    of the same content under another Message-ID is doubled, and so is a message over the
    address's due (a resend with other content); one short is lost. Messages to an address not
    expected are listed; a copy under the same Message-ID is counted apart (`resent`)."""
    mails = list(mails)
    copies = Counter(content(mail) for mail in mails)
    ids: dict[tuple[tuple[str, ...], str, str], set[str]] = {}
    for mail in mails:
        ids.setdefault(content(mail), set()).add(mail.message_id)
    # the same content under a new Message-ID is doubled; under the same one it is a resend
    # after a lost "sent" mark (the email channel is at least once: channels/email.py), which
    # mail servers and clients collapse by Message-ID: reported, not counted as doubled
    same_content = sum(len(ids[key]) - 1 for key in copies)
    resent = sum(n - len(ids[key]) for key, n in copies.items())
    twice = [
        {"to": list(key[0]), "subject": key[1], "copies": n, "message_ids": sorted(ids[key])}
        for key, n in copies.items()
        if n > 1
    ]
    distinct_per_address: Counter[str] = Counter()
    for to, _subject, _text in copies:  # each content once
        for address in to:
            distinct_per_address[address] += 1
    lost = sum(max(0, n - distinct_per_address[a]) for a, n in expected_per_address.items())
    extra = sum(max(0, distinct_per_address[a] - n) for a, n in expected_per_address.items())
    unexpected = sorted(a for a in distinct_per_address if a not in expected_per_address)
    subjects = Counter(mail.subject for mail in mails)
    detail = {
        "same_content_twice": same_content,
        "resent_same_message_id": resent,
        "twice": twice[:10],
        "more_than_due": extra,
        "to_unexpected_addresses": unexpected,
        "subjects": dict(subjects.most_common(12)),
    }
    expected = sum(expected_per_address.values())
    return Count(expected, len(mails), lost, same_content + extra), detail
