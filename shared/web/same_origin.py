"""Whether a browser's form post came from this site, by what it says of where it came from
(`Origin`, else `Referer`): one of the two defences against cross-site request forgery (the
other is a token in the form), used by intake's patient form and the staff console."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def site_of(url: str) -> str | None:
    """`scheme://host[:port]` in lower case; None for anything else (including `null`)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_same_origin(origin: str | None, referer: str | None, ours: Iterable[str]) -> bool:
    """False when the browser says the request came from elsewhere; True when it says nothing."""
    said = origin if origin is not None else referer
    if said is None:
        return True
    allowed = {o for o in (site_of(url) for url in ours) if o}
    return site_of(said) in allowed
