"""Pagination styles: each knows its first request, the next one from an answer, and, when the first
answer announces a total, every remaining request at once (so they can be fetched concurrently)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urljoin

from api_fetcher.client import Answer, PageRequest
from api_fetcher.records import dig
from api_fetcher.spec import (
    Cursor,
    LinkHeader,
    NextUrl,
    NoPagination,
    Offset,
    PageNumber,
    Pagination,
    Scalar,
)


class Paginator(Protocol):
    """One endpoint's walk through its pages."""

    def first(self) -> PageRequest:
        """The first page."""
        ...

    def next(self, req: PageRequest, answer: Answer, count: int) -> PageRequest | None:
        """The page after `req`, given its answer and how many records it held; None when done."""
        ...

    def remaining(self, answer: Answer) -> list[PageRequest] | None:
        """Every page after the first when the first answer tells how many there are, else None."""
        ...


class _Base:
    def __init__(self, url: str, params: Mapping[str, Scalar]) -> None:
        self.url = url
        self.params = dict(params)

    def remaining(self, answer: Answer) -> list[PageRequest] | None:
        return None


class Single(_Base):
    def first(self) -> PageRequest:
        return PageRequest(self.url, self.params, 1)

    def next(self, req: PageRequest, answer: Answer, count: int) -> PageRequest | None:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class PageNumbers(_Base):
    def __init__(self, spec: PageNumber, url: str, params: Mapping[str, Scalar]) -> None:
        super().__init__(url, params)
        self.spec = spec

    def _page(self, page: int, number: int) -> PageRequest:
        params = {**self.params, self.spec.page_param: page}
        if self.spec.size_param:
            params[self.spec.size_param] = self.spec.size
        return PageRequest(self.url, params, number)

    def first(self) -> PageRequest:
        return self._page(self.spec.start, 1)

    def _last_page(self, answer: Answer) -> int | None:
        if self.spec.total_pages_path:
            pages = _int(dig(answer.body, self.spec.total_pages_path))
            return None if pages is None else self.spec.start + pages - 1
        if self.spec.total_path:
            total = _int(dig(answer.body, self.spec.total_path))
            if total is not None:
                return self.spec.start + max(1, math.ceil(total / self.spec.size)) - 1
        return None

    def next(self, req: PageRequest, answer: Answer, count: int) -> PageRequest | None:
        page = int(req.params[self.spec.page_param])
        last = self._last_page(answer)
        if count == 0 or (last is not None and page >= last):
            return None
        if last is None and self.spec.size_param and count < self.spec.size:
            return None
        return self._page(page + 1, req.number + 1)

    def remaining(self, answer: Answer) -> list[PageRequest] | None:
        last = self._last_page(answer)
        if last is None:
            return None
        return [
            self._page(p, p - self.spec.start + 1) for p in range(self.spec.start + 1, last + 1)
        ]


class Offsets(_Base):
    def __init__(self, spec: Offset, url: str, params: Mapping[str, Scalar]) -> None:
        super().__init__(url, params)
        self.spec = spec

    def _at(self, offset: int) -> PageRequest:
        params = {
            **self.params,
            self.spec.offset_param: offset,
            self.spec.limit_param: self.spec.limit,
        }
        return PageRequest(self.url, params, offset // self.spec.limit + 1)

    def first(self) -> PageRequest:
        return self._at(0)

    def next(self, req: PageRequest, answer: Answer, count: int) -> PageRequest | None:
        offset = int(req.params[self.spec.offset_param]) + self.spec.limit
        total = _int(dig(answer.body, self.spec.total_path)) if self.spec.total_path else None
        if count < self.spec.limit or (total is not None and offset >= total):
            return None
        return self._at(offset)

    def remaining(self, answer: Answer) -> list[PageRequest] | None:
        if not self.spec.total_path:
            return None
        total = _int(dig(answer.body, self.spec.total_path))
        if total is None:
            return None
        return [self._at(o) for o in range(self.spec.limit, total, self.spec.limit)]


class Cursors(_Base):
    def __init__(self, spec: Cursor, url: str, params: Mapping[str, Scalar]) -> None:
        super().__init__(url, params)
        self.spec = spec
        if spec.size_param and spec.size:
            self.params[spec.size_param] = spec.size

    def first(self) -> PageRequest:
        return PageRequest(self.url, self.params, 1)

    def next(self, req: PageRequest, answer: Answer, count: int) -> PageRequest | None:
        token = dig(answer.body, self.spec.next_path)
        if token in (None, "") or count == 0:
            return None
        return PageRequest(self.url, {**self.params, self.spec.cursor_param: token}, req.number + 1)


def _follow(link: Any, req: PageRequest, answer: Answer, count: int) -> PageRequest | None:
    """The page a next link points at (relative to the page it came from); None at the end."""
    if not isinstance(link, str) or not link or count == 0:
        return None
    return PageRequest(urljoin(answer.url, link), {}, req.number + 1)


class Links(_Base):
    def __init__(self, spec: LinkHeader, url: str, params: Mapping[str, Scalar]) -> None:
        super().__init__(url, params)
        self.rel = spec.rel

    def first(self) -> PageRequest:
        return PageRequest(self.url, self.params, 1)

    def next(self, req: PageRequest, answer: Answer, count: int) -> PageRequest | None:
        return _follow(answer.links.get(self.rel, {}).get("url"), req, answer, count)


class NextUrls(_Base):
    def __init__(self, spec: NextUrl, url: str, params: Mapping[str, Scalar]) -> None:
        super().__init__(url, params)
        self.next_path = spec.next_path

    def first(self) -> PageRequest:
        return PageRequest(self.url, self.params, 1)

    def next(self, req: PageRequest, answer: Answer, count: int) -> PageRequest | None:
        return _follow(dig(answer.body, self.next_path), req, answer, count)


def paginator(spec: Pagination, url: str, params: Mapping[str, Scalar]) -> Paginator:
    """The paginator of an endpoint's `pagination` block."""
    if isinstance(spec, NoPagination):
        return Single(url, params)
    if isinstance(spec, PageNumber):
        return PageNumbers(spec, url, params)
    if isinstance(spec, Offset):
        return Offsets(spec, url, params)
    if isinstance(spec, Cursor):
        return Cursors(spec, url, params)
    if isinstance(spec, LinkHeader):
        return Links(spec, url, params)
    return NextUrls(spec, url, params)
