import pytest

from services.notifications.domain.contacts import contact_update, patient_address, prefs_of
from services.notifications.domain.inbound import inbound_command
from services.notifications.domain.unsubscribe_links import UnsubscribeLinks

CONTACT = {"given_name": " Maria ", "email": "maria@example.org", "phone": "(212) 555-0142"}


@pytest.mark.parametrize(
    ("event_type", "data", "expected"),
    [
        (
            "referral.accepted",
            {"patient": CONTACT, "consent": {"email": True, "sms": False}},
            {
                "given_name": "Maria", "family_name": None, "email": "maria@example.org",
                "phone": "+12125550142", "language": None, "consent": {"email": True, "sms": False},
            },
        ),
        (
            "referral.amended",
            {
                "referral_id": "ref_1", "partner_referral_id": "REF-7", "clinic_name": "Calm Hands",
                "patient": {**CONTACT, "family_name": "Lopez", "birth_date": "1978-04-12"},
                "referrer": {"name": "David Chen", "prefix": "Dr.", "family_name": "Chen", "email": "d@x.example"},
            },
            {
                "given_name": "Maria", "family_name": "Lopez", "email": "maria@example.org",
                "phone": "+12125550142", "language": None, "birth_date": "1978-04-12",
                "clinic_name": "Calm Hands",
                "referrals.ref_1": {
                    "partner_referral_id": "REF-7",
                    "referrer": {"name": "David Chen", "prefix": "Dr.", "family_name": "Chen"},
                },
            },
        ),
        (
            "patient.registered",
            {"contact": {**CONTACT, "phone": "not a number", "language": "es"}},
            {
                "given_name": "Maria", "family_name": None, "email": "maria@example.org",
                "phone": None, "language": "es",
            },
        ),
        ("patient.consent_changed", {"consent": {"sms": True}}, {"consent": {"email": False, "sms": True}}),
        ("session.scheduled", {"patient": CONTACT}, None),
    ],
)  # fmt: skip
def test_events_tell_the_directory_only_what_they_carry(event_type, data, expected):
    assert contact_update(event_type, data, "US") == expected


def test_what_a_contact_allows_is_consent_minus_opt_outs():
    contact = {"consent": {"email": True, "sms": True}, "opted_out_channels": ["sms"]}
    prefs = prefs_of(contact)
    assert prefs.allows("email") and not prefs.allows("sms")
    assert not prefs_of(None).allows("email")
    assert patient_address({"email": "a@b.example", "phone": "+1"}, "sms") == "+1"
    assert patient_address({"email": None}, "email") is None


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("STOP", "stop"), ("stop", "stop"), ("Stop.", "stop"), (" ¡Alto!", "stop"),
        ("unsubscribe me", "stop"), ("BAJA", "stop"), ("START", "start"), ("unstop", "start"),
        ("I want to stop", None), ("STOPPED?", None), ("", None), (None, None),
        ("What time is my appointment?", None),
    ],
)  # fmt: skip
def test_only_a_leading_carrier_keyword_is_a_command(text, command):
    assert inbound_command(text) == command


def test_unsubscribe_links_are_signed_and_name_the_patient_not_their_address():
    links = UnsubscribeLinks("a-secret-of-some-length", "https://notify.example/")
    url = links.url("clinic-1", "pat-1")
    assert url.startswith("https://notify.example/unsubscribe/") and "@" not in url
    token = url.rsplit("/", 1)[1]
    wanted = links.read(token)
    assert (wanted.tenant_id, wanted.patient_id, wanted.channel) == ("clinic-1", "pat-1", "email")
    assert links.read(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert UnsubscribeLinks("another-secret-entirely", "https://x").read(token) is None
    assert links.read("not-a-token") is None
