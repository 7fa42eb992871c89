"""Each pagination style's walk: the next request from an answer, and the whole plan when the
first answer tells the total."""

from __future__ import annotations

from typing import Any

from api_fetcher.client import Answer
from api_fetcher.pagination import paginator
from api_fetcher.spec import Cursor, LinkHeader, NextUrl, NoPagination, Offset, PageNumber

URL = "http://api.test/items"


def answer(body: Any, links: dict[str, dict[str, str]] | None = None, url: str = URL) -> Answer:
    return Answer(body=body, url=url, links=links or {})


def test_page_number_stops_at_a_short_page_without_a_total() -> None:
    p = paginator(PageNumber(type="page_number", size=2), URL, {"q": "x"})
    first = p.first()
    assert first.params == {"q": "x", "page": 1, "per_page": 2}
    second = p.next(first, answer([1, 2]), 2)
    assert second is not None and second.params["page"] == 2 and second.number == 2
    assert p.next(second, answer([3]), 1) is None
    assert p.remaining(answer([1, 2])) is None


def test_page_number_plans_every_page_from_the_total() -> None:
    p = paginator(PageNumber(type="page_number", size=10, total_path="meta.total"), URL, {})
    rest = p.remaining(answer({"meta": {"total": 35}}))
    assert rest is not None
    assert [r.params["page"] for r in rest] == [2, 3, 4]
    assert [r.number for r in rest] == [2, 3, 4]


def test_offset_walks_by_limit_and_plans_from_the_total() -> None:
    p = paginator(Offset(type="offset", limit=50, total_path="total"), URL, {})
    first = p.first()
    assert first.params == {"offset": 0, "limit": 50}
    nxt = p.next(first, answer({"total": 120}), 50)
    assert nxt is not None and nxt.params["offset"] == 50
    rest = p.remaining(answer({"total": 120}))
    assert rest is not None and [r.params["offset"] for r in rest] == [50, 100]
    assert p.next(rest[-1], answer({"total": 120}), 20) is None


def test_cursor_follows_the_token_until_it_is_empty() -> None:
    p = paginator(
        Cursor(type="cursor", next_path="paging.next", size_param="limit", size=5), URL, {}
    )
    first = p.first()
    assert first.params == {"limit": 5}
    nxt = p.next(first, answer({"paging": {"next": "abc"}}), 5)
    assert nxt is not None and nxt.params == {"limit": 5, "cursor": "abc"}
    assert p.next(nxt, answer({"paging": {"next": None}}), 5) is None


def test_link_header_and_next_url_resolve_relative_links() -> None:
    links = paginator(LinkHeader(type="link_header"), URL, {"a": 1})
    nxt = links.next(links.first(), answer([1], {"next": {"url": "/items?page=2"}}), 1)
    assert nxt is not None and nxt.url == "http://api.test/items?page=2" and nxt.params == {}
    assert links.next(nxt, answer([1]), 1) is None
    body = paginator(NextUrl(type="next_url", next_path="next"), URL, {})
    nxt = body.next(body.first(), answer({"next": "?page=3"}), 1)
    assert nxt is not None and nxt.url == "http://api.test/items?page=3"


def test_single_page_has_no_next() -> None:
    p = paginator(NoPagination(type="none"), URL, {"x": 1})
    assert p.next(p.first(), answer([1]), 1) is None
