"""The partner contract: the two forms a referral comes in, and the native cancellation.

A FHIR R4 Bundle (`fhir.py`) or the native JSON form (`native.py`) becomes the domain's
`Referral`; `reading.py` is the one door both channels (AMQP and HTTP) come through, so they
accept and refuse the same things with the same field paths. docs/partners.md documents it;
`examples/` holds a referral in each form.

Not `domain/`: these are wire formats read with marshmallow and fhir.resources, and they change
when the contract with partners changes, not when the clinic's rules do (those are
`domain/referral.py`). Not `api/`: the AMQP consumer reads them too.
"""
