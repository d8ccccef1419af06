"""The email channel's policy makes each header class once; what it writes is byte for byte what
the standard library's default policy writes."""

from email import policy
from email.message import EmailMessage

from services.notifications.channels.email import POLICY, WIRE_POLICY


def written(message_policy, wire_policy) -> bytes:
    message = EmailMessage(policy=message_policy)
    message["From"] = "Clínica Calm Hands <noreply@clinic.example>"
    message["To"] = "ana.garcia@example.org"
    message["Subject"] = "Welcome — your referral is in, and this subject is long enough to fold"
    message["List-Unsubscribe"] = "<https://clinic.example/u/abc>"
    message.set_content("Hola, Ana é\n" * 30)
    message.add_alternative("<p>Hola</p>" * 30, subtype="html")
    message.set_boundary("BOUNDARY")
    return message.as_bytes(policy=wire_policy)


def test_the_channels_policy_writes_what_the_default_policy_writes():
    standard = written(policy.default, policy.default.clone(linesep="\r\n"))
    assert written(POLICY, WIRE_POLICY) == standard
    assert written(POLICY, WIRE_POLICY) == standard  # the second time, from the classes made
    assert b"\r\n" in standard and b"\n\n" not in standard.replace(b"\r\n", b"")
