"""The `data` of each event type, as marshmallow schemas, one module per publisher.

`shared/events/catalog.py` names each type's schema (`PAYLOADS`). Events grow additively, so
a payload schema reads the fields it declares and leaves out any others (`Payload`); the
publisher's tests check that what its builders emit loads, with no field the schema lacks.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema


class Payload(Schema):
    class Meta:
        unknown = EXCLUDE
