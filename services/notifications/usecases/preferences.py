"""A patient's channel choices: staff read and change them; the patient's unsubscribe link and
STOP / START replies change them too. Intake's consent is never changed here (see
`domain.contacts`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shared import audit
from shared.errors import NotFound
from shared.web.auth import Principal

from ..domain.contacts import normalize_phone, preferences
from ..domain.inbound import inbound_command
from ..domain.unsubscribe_links import Unsubscribe

if TYPE_CHECKING:
    from ..bootstrap import Deps

INVALID_LINK = "this link is not valid"


def get_preferences(deps: Deps, principal: Principal, patient_id: str) -> dict[str, Any]:
    """The patient's consent (from intake), own choices, and what will be sent."""
    if (contact := deps.contacts.get(principal.tenant_id, patient_id)) is None:
        raise NotFound("no such patient")
    return preferences(contact)


def change_preferences(
    deps: Deps, principal: Principal, patient_id: str, choices: Mapping[str, bool]
) -> dict[str, Any]:
    """Opt the patient out of (false) or back into (true) each channel named."""
    directory = deps.contacts
    contact = directory.get(principal.tenant_id, patient_id)
    for channel, receive in choices.items():
        if contact is not None:
            contact = directory.choose(
                principal.tenant_id, patient_id, channel, receive, deps.clock()
            )
    if contact is None:
        raise NotFound("no such patient")
    return preferences(contact)


def read_unsubscribe_link(deps: Deps, token: str) -> Unsubscribe:
    """What an unsubscribe link asks for; NotFound if we did not sign it."""
    if (wanted := deps.links.read(token)) is None:
        raise NotFound(INVALID_LINK)
    return wanted


def unsubscribe(deps: Deps, token: str) -> None:
    """The patient follows the link in an email: no more emails (audited as the patient)."""
    wanted = read_unsubscribe_link(deps, token)
    contact = deps.contacts.choose(
        wanted.tenant_id, wanted.patient_id, wanted.channel, False, deps.clock()
    )
    if contact is None:
        raise NotFound(INVALID_LINK)
    audit.record(
        deps.db, actor="patient:unsubscribe-link", tenant_id=wanted.tenant_id, action="opt_out",
        object_type="patient_preferences", object_id=wanted.patient_id,
    )  # fmt: skip


def apply_sms_reply(deps: Deps, sender: str, body: str) -> dict[str, Any]:
    """A patient's reply to a text: STOP (and its synonyms) opts the number out of texts in
    every clinic that texts it, START back in; anything else changes nothing."""
    command = inbound_command(body)
    phone = normalize_phone(sender, deps.settings.default_phone_region)
    if command is None or phone is None:
        return {"command": command, "contacts": 0}
    directory = deps.contacts
    contacts = directory.with_phone(phone)
    for contact in contacts:
        tenant_id, patient_id = contact["tenant_id"], contact["patient_id"]
        directory.choose(tenant_id, patient_id, "sms", command == "start", deps.clock())
        audit.record(
            deps.db, actor="patient:sms-reply", tenant_id=tenant_id, action=f"sms_{command}",
            object_type="patient_preferences", object_id=patient_id,
        )  # fmt: skip
    return {"command": command, "contacts": len(contacts)}
