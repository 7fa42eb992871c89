"""Fetch one day of a paged HTTP API: `?date=YYYY-MM-DD&page=N` from 1 until a page has no items.

Every response is kept as received (the raw layer); a page that is not JSON is kept too and the
fetch goes on with the next page number, so one broken page never hides the rest of the day.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode, urlsplit, urlunsplit

from de_common.errors import JobError, ServiceUnavailable

MAX_PAGES = 100_000
RETRIES = 4


@dataclass(frozen=True)
class Page:
    """One response: where it came from and its body, decoded as text."""

    number: int
    url: str
    status: int
    body: str

    def items(self) -> list[object] | str:
        """The page's items, or why the payload is unusable."""
        try:
            data = json.loads(self.body)
        except ValueError as exc:
            return f"page {self.number}: not JSON: {exc}"
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            return f"page {self.number}: no `items` list in the payload"
        items: list[object] = data["items"]
        return items


def page_url(base: str, day: date, number: int) -> str:
    parts = urlsplit(base)
    query = "&".join(
        q for q in (parts.query, urlencode({"date": day.isoformat(), "page": number})) if q
    )
    return urlunsplit(parts._replace(query=query))


def get(url: str, timeout: float) -> tuple[int, str]:
    """GET with retries on 429/5xx and connection errors (exponential backoff)."""
    for attempt in range(RETRIES + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - http(s) only
                return int(resp.status), resp.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as exc:
            if exc.code != 429 and exc.code < 500:
                raise JobError(f"api {url}: HTTP {exc.code}") from exc
            if attempt == RETRIES:
                raise JobError(f"api {url}: HTTP {exc.code} after {RETRIES} retries") from exc
        except (urllib.error.URLError, OSError) as exc:
            if attempt == RETRIES:
                reason = getattr(exc, "reason", exc)
                raise ServiceUnavailable("api", url, str(reason)) from exc
        time.sleep(min(0.2 * 2**attempt, 5.0))
    raise AssertionError("unreachable")


def fetch_day(base: str, day: date, timeout: float) -> list[Page]:
    """Every page of the day, in order; stops at the first valid page without items."""
    if urlsplit(base).scheme not in ("http", "https"):
        raise JobError(f"api {base}: only http and https URLs are fetched")
    pages: list[Page] = []
    for number in range(1, MAX_PAGES + 1):
        url = page_url(base, day, number)
        status, body = get(url, timeout)
        page = Page(number, url, status, body)
        pages.append(page)
        if page.items() == []:
            return pages
    raise JobError(f"api {base}: more than {MAX_PAGES} pages for {day}")
