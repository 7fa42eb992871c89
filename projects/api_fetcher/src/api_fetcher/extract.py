"""One endpoint's run: pages fetched (concurrently when the pagination tells the total), checked,
written in batches; after each durable write the quarantine is synced and the state saved.

Pages are consumed in order, so the saved cursor only ever covers a gap-free prefix of the run:
after a failed page (or an early stop) the cursor stays where it was and the rerun fetches again
what followed it; the sinks' dedupe absorbs the overlap.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from api_fetcher.client import ApiClient, PageError, PageRequest
from api_fetcher.pagination import Paginator, paginator
from api_fetcher.quarantine import Quarantine
from api_fetcher.records import Checker, Record, Rejected, later, page_records
from api_fetcher.sinks import Destination, Sink
from api_fetcher.spec import Endpoint, Scalar, Source
from api_fetcher.state import EndpointState, StateStore
from api_fetcher.telemetry import FetchMetrics
from de_common.errors import JobError, UserError
from de_common.faults import fault_point


@dataclass
class Window:
    """Which records a run asks for: incremental from the saved cursor, or a backfill range."""

    start: Scalar | None = None
    end: Scalar | None = None
    backfill: bool = False


@dataclass
class SourceContext:
    """What every endpoint run of one source shares."""

    source: Source
    client: ApiClient
    pool: ThreadPoolExecutor
    destination: Destination
    state: StateStore
    quarantine_dir: Any
    batch_records: int
    metrics: FetchMetrics
    stop: threading.Event


@dataclass
class Page:
    req: PageRequest
    records: list[Any]
    answer: Any


@dataclass
class Failed:
    req: PageRequest
    error: PageError


@dataclass
class EndpointCounts:
    records_in: int = 0
    written: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    pages: int = 0
    pages_failed: int = 0
    cursor_before: Any = None
    cursor_after: Any = None
    stopped: bool = False
    errors: list[str] = field(default_factory=list)
    fatal: UserError | JobError | None = None


def _fetch(client: ApiClient, endpoint: Endpoint, req: PageRequest) -> Page | Failed:
    try:
        answer = client.get(req, endpoint.headers)
        return Page(req, page_records(answer.body, endpoint.records_path), answer)
    except PageError as exc:
        return Failed(req, exc)


def _pages(ctx: SourceContext, endpoint: Endpoint, pager: Paginator) -> Iterator[Page | Failed]:
    """Every page in order; the pages after the first at once (bounded) when the total is known."""
    fetch = lambda r: _fetch(ctx.client, endpoint, r)  # noqa: E731
    item = ctx.pool.submit(fetch, pager.first()).result()
    yield item
    if isinstance(item, Failed):
        return
    rest = pager.remaining(item.answer)
    if rest is not None:
        yield from _window(ctx, fetch, rest)
        return
    while not ctx.stop.is_set():
        nxt = pager.next(item.req, item.answer, len(item.records))
        if nxt is None:
            return
        item = ctx.pool.submit(fetch, nxt).result()
        yield item
        if isinstance(item, Failed):
            return


def _window(ctx: SourceContext, fetch: Any, requests: list[PageRequest]) -> Iterator[Page | Failed]:
    """Keep up to 2 x the pool's size in flight, hand results back in page order."""
    size = 2 * ctx.pool._max_workers
    todo = iter(requests)
    pending: deque[Future[Page | Failed]] = deque()
    try:
        while True:
            while len(pending) < size and not ctx.stop.is_set():
                req = next(todo, None)
                if req is None:
                    break
                pending.append(ctx.pool.submit(fetch, req))
            if not pending:
                return
            if ctx.stop.is_set():
                # Finish what is in flight, up to the first page that had not started.
                while pending and not pending[0].cancel():
                    yield pending.popleft().result()
                return
            yield pending.popleft().result()
    finally:
        for fut in pending:
            fut.cancel()


class Writer:
    """Checks records, batches them, writes durably, then syncs the quarantine and saves state."""

    def __init__(self, ctx: SourceContext, endpoint: Endpoint, sink: Sink, window: Window) -> None:
        self.ctx = ctx
        self.endpoint = endpoint
        self.sink = sink
        self.window = window
        saved = ctx.state.get(endpoint.name)
        self.saved = saved
        self.quarantine = Quarantine(
            ctx.quarantine_dir, ctx.source.name, endpoint.name, saved.quarantine_bytes
        )
        self.checker = Checker(endpoint)
        self.buffer: list[Record] = []
        self.counts = EndpointCounts(cursor_before=saved.cursor, cursor_after=saved.cursor)
        self.sorted = endpoint.incremental is not None and endpoint.incremental.sorted
        self.reach: Any = None  # the largest cursor of the gap-free prefix of this run
        self.gap = False
        # Counted once durable: a failed write leaves the counts of what was stored.
        self._in = 0
        self._rejected = 0

    def page(self, item: Page | Failed) -> None:
        self.counts.pages += 1
        label = self.ctx.client.shown(_describe(item.req))
        if isinstance(item, Failed):
            self.counts.pages_failed += 1
            self.counts.errors.append(f"{label}: {item.error.reason}")
            self.quarantine.page(label, item.error.reason, item.error.status, item.error.snippet)
            self.gap = True
            return
        for raw in item.records:
            checked = self.checker.check(raw)
            if isinstance(checked, Rejected):
                self.quarantine.record(checked.data, checked.reason, label)
                self._rejected += 1
                continue
            self.buffer.append(checked)
            if not self.gap:
                self.reach = later(self.reach, checked.cursor)
        self._in += len(item.records)
        if len(self.buffer) >= self.ctx.batch_records:
            self.flush(complete=False)

    def flush(self, complete: bool) -> None:
        """Write the buffer durably, sync the quarantine, then save the state (in that order)."""
        written = self.sink.write(self.buffer) if self.buffer else None
        self.buffer = []
        length = self.quarantine.sync()
        c = self.counts
        if written is not None:
            c.written += written.written
            c.updated += written.updated
            c.duplicates += written.duplicates
        c.records_in += self._in
        c.rejected += self._rejected
        self._in = self._rejected = 0
        fault_point("fetch.after_write")
        cursor = c.cursor_after
        if not self.window.backfill and (self.sorted or (complete and not self.gap)):
            cursor = later(cursor, self.reach)
        c.cursor_after = cursor
        self.ctx.state.save(self.endpoint.name, EndpointState(cursor, length))
        fault_point("fetch.after_state")


def _describe(req: PageRequest) -> str:
    if not req.params:
        return req.url
    query = "&".join(f"{k}={v}" for k, v in req.params.items())
    return f"{req.url}?{query}"


def _params(endpoint: Endpoint, saved: EndpointState, window: Window) -> dict[str, Scalar]:
    params = dict(endpoint.params)
    inc = endpoint.incremental
    if window.backfill:
        if inc is None or inc.end_param is None:
            raise UserError(
                f"endpoint {endpoint.name} has no time filter: set incremental.param and "
                "incremental.end_param to backfill it"
            )
        assert window.start is not None and window.end is not None
        params[inc.param] = window.start
        params[inc.end_param] = window.end
    elif inc is not None:
        start = saved.cursor if saved.cursor is not None else inc.initial
        if start is not None:
            params[inc.param] = start
    return params


def fetch_endpoint(ctx: SourceContext, endpoint: Endpoint, window: Window) -> EndpointCounts:
    """Fetch one endpoint to the end (or to a stop request) and account for every record."""
    sink = ctx.destination.open(ctx.source.name, endpoint)
    writer = Writer(ctx, endpoint, sink, window)
    counts = writer.counts
    try:
        url = ctx.source.base_url.rstrip("/") + "/" + endpoint.path.lstrip("/")
        pager = paginator(endpoint.pagination, url, _params(endpoint, writer.saved, window))
        try:
            for item in _pages(ctx, endpoint, pager):
                writer.page(item)
        except (UserError, JobError) as exc:  # the API out of reach, credentials refused
            counts.fatal = exc
        counts.stopped = ctx.stop.is_set()
        writer.flush(complete=counts.fatal is None and not counts.stopped)
    except (UserError, JobError) as exc:  # the sink or the state refused the write
        counts.fatal = counts.fatal or exc
    finally:
        writer.quarantine.close()
        sink.close()
    ctx.metrics.count(ctx.source.name, "ok", counts.written)
    ctx.metrics.count(ctx.source.name, "rejected", counts.rejected)
    ctx.metrics.count(ctx.source.name, "duplicate", counts.duplicates)
    return counts
