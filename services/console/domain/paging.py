"""A list page's pages: the page asked for (`?page=`), and how many there are. Pure."""

from __future__ import annotations

MOST_PAGES = 10_000


def asked_page(value: str | None) -> int:
    """The page asked for, from 1; anything else (missing, not a number, absurd) is page 1."""
    text = value or ""
    return int(text) if text.isdigit() and 0 < int(text) < MOST_PAGES else 1


def page_count(total: int, page_size: int) -> int:
    """How many pages `total` items fill (one at least: an empty list is one empty page)."""
    return max(1, -(-total // page_size))
