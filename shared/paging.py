"""Pages of a list: what a repository returns and every list endpoint answers.

One convention everywhere (docs/api.md): `page` (from 1) and `page_size` (default 50, capped
at the MAX_PAGE_SIZE setting) in; `{"items": [...], "page", "page_size", "total"}` out, where
`page_size` is the size actually used and `total` counts every match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

DEFAULT_PAGE_SIZE = 50
MAX_PAGE = 100_000


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.page_size

    def capped(self, max_page_size: int) -> PageRequest:
        return replace(self, page_size=min(self.page_size, max_page_size))


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    page: int
    page_size: int
    total: int

    @classmethod
    def of(cls, items: list[T], request: PageRequest, total: int) -> Page[T]:
        return cls(items, request.page, request.page_size, total)

    @classmethod
    def of_list(cls, items: list[T], request: PageRequest) -> Page[T]:
        """The requested page of a whole list already in hand (e.g. one kept inside a document)."""
        window = items[request.skip : request.skip + request.page_size]
        return cls.of(window, request, len(items))

    def map[U](self, fn: Callable[[T], U]) -> Page[U]:
        return Page([fn(item) for item in self.items], self.page, self.page_size, self.total)

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "page": self.page,
            "page_size": self.page_size,
            "total": self.total,
        }
