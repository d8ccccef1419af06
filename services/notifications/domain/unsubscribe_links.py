"""Unsubscribe links: signed, so nobody can opt a patient out by guessing a URL.

The token names the tenant, the patient and the channel, signed with `unsubscribe_secret`
(itsdangerous, HMAC-SHA256). It does not expire: an unsubscribe link in a years-old email must
still work (RFC 8058 one-click and CAN-SPAM expect that). It carries ids, no contact details.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "notifications.unsubscribe"


@dataclass(frozen=True)
class Unsubscribe:
    tenant_id: str
    patient_id: str
    channel: str


class UnsubscribeLinks:
    def __init__(self, secret: str, public_url: str) -> None:
        self.serializer = URLSafeSerializer(
            secret, salt=SALT, signer_kwargs={"digest_method": hashlib.sha256}
        )
        self.base = public_url.rstrip("/") + "/unsubscribe/"

    def url(self, tenant_id: str, patient_id: str, channel: str = "email") -> str:
        return self.base + self.serializer.dumps([tenant_id, patient_id, channel])

    def read(self, token: str) -> Unsubscribe | None:
        """What a token asks for, or None if it was not signed by us."""
        try:
            tenant_id, patient_id, channel = self.serializer.loads(token)
        except (BadSignature, ValueError, TypeError):
            return None
        if not all(isinstance(part, str) for part in (tenant_id, patient_id, channel)):
            return None
        return Unsubscribe(tenant_id, patient_id, channel)
