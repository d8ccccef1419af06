"""A development SMTP server (aiosmtpd) that keeps every received message where a person can read it.

    python -m tools.devstack.smtp --port 1025 --maildir var/mail

Each message is written to `<maildir>/new/` (standard Maildir: one file per message, readable
with any mail client or `cat`), and one summary line is printed per message.
"""

from __future__ import annotations

import argparse
import mailbox
import signal
import sys
import threading
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class MaildirHandler:
    def __init__(self, maildir: str) -> None:
        self.box = mailbox.Maildir(maildir, create=True)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.default
        )
        with self.lock:
            key = self.box.add(envelope.original_content or envelope.content)
        print(
            f"mail {key}: to={','.join(envelope.rcpt_tos)} subject={message['subject']!r}",
            flush=True,
        )
        return "250 Message accepted for delivery"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--maildir", default="var/mail")
    args = parser.parse_args()
    controller = Controller(MaildirHandler(args.maildir), hostname=args.host, port=args.port)
    try:
        controller.start()
    except OSError as error:
        print(f"dev SMTP: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    print(f"listening smtp://{args.host}:{args.port} (mail kept in {args.maildir}/new)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
