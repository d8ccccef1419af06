"""Telling staff about failed deliveries: one report per staff inbox per period, not one each.

When a delivery fails for good, the sender records, before marking it failed, a *notice*
(`deliveries.failure_notice`: status waiting, its key the failed delivery's, so it is never
lost and never recorded twice, whatever restarts) and makes sure its inbox has an open *report*
for the current period (`deliveries.failure_report`, due at the period's end; one per inbox and
period, its key says which; "open" means not yet claimed by a sender, else the next period's).
Periods are `DIGEST_PERIOD` long, aligned to the clock (:00, :15, :30, :45).

The sender that claims a report takes every waiting notice of its inbox (`gather_notices`: each
notice is taken once, atomically, so no failure is listed in two reports), sends one message
listing them with counts by kind, and gives them the report's outcome. All of it lives in
MongoDB: a worker restart loses nothing and sends nothing twice (beyond SMTP's own window: a
worker killed after the server accepted the report, before recording it, sends it again, with
the same Message-ID, as for any email).

Why the first failure of a period waits for the period's end rather than going at once: a
notice is late by nature (a message fails for good only after its retries, up to about an
hour, or a refusal), so a quarter of an hour more costs staff little, while a first notice
followed minutes later by a second is two messages to read where one complete list does; when a
whole batch fails (a provider down, a template broken) the counts at the top show it at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from .quiet_hours import as_utc

DIGEST_PERIOD = timedelta(minutes=15)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def period_end(now: datetime, period: timedelta = DIGEST_PERIOD) -> datetime:
    """The end of the period `now` falls in (a time exactly on a boundary starts a period)."""
    elapsed = as_utc(now) - _EPOCH
    return _EPOCH + (elapsed // period + 1) * period


def digest_data(notices: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What a report (`staff_delivery_failed`) is rendered from: ``failures`` (each notice's
    data, in the given order) and ``kinds`` (``{channel, template, count}``, most first)."""
    failures = [dict(notice["data"]) for notice in notices]
    kinds = Counter((failure["channel"], failure["template"]) for failure in failures)
    return {
        "failures": failures,
        "kinds": [
            {"channel": channel, "template": template, "count": count}
            for (channel, template), count in kinds.most_common()
        ],
    }
