"""New ids for stored objects: `<prefix>_<20 hex digits>`, e.g. `pat_3f9a0c...`.

Random, so an id says nothing about the patient, the clinic or the order of creation, and is
unguessable enough that another clinic's id is useless without its key (it answers 404
anyway). The prefix names the kind: `pat` patient, `ref` referral, `int` intake, `pln` plan,
`ses` session, `dlv` delivery, ...
"""

from __future__ import annotations

import re
import secrets

ID_PATTERN = re.compile(r"^[a-z]{2,6}_[0-9a-f]{20}$")


def new_id(prefix: str) -> str:
    if not re.fullmatch(r"[a-z]{2,6}", prefix):
        raise ValueError(f"an id prefix is 2-6 lower-case letters, not {prefix!r}")
    return f"{prefix}_{secrets.token_hex(10)}"
