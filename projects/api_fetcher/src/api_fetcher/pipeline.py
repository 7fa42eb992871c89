"""One source's run: its lock, its client, its page pool; every endpoint at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from api_fetcher.client import ApiClient
from api_fetcher.config import ApiFetcherSettings
from api_fetcher.extract import EndpointCounts, SourceContext, Window, fetch_endpoint
from api_fetcher.sinks import Destination
from api_fetcher.spec import Source
from api_fetcher.state import StateStore, source_lock
from api_fetcher.telemetry import FetchMetrics
from de_common.errors import JobError, UserError


@dataclass
class Run:
    """What every source run of one job shares."""

    settings: ApiFetcherSettings
    destination: Destination
    metrics: FetchMetrics
    stop: threading.Event = field(default_factory=threading.Event)


@dataclass
class SourceResult:
    source: str
    endpoints: dict[str, EndpointCounts] = field(default_factory=dict)
    fatal: UserError | JobError | None = None
    oauth_tokens: int | None = None

    @property
    def clean(self) -> bool:
        eps = self.endpoints.values()
        return self.fatal is None and not any(e.fatal or e.pages_failed or e.stopped for e in eps)

    def errors(self) -> list[str]:
        found = [str(self.fatal)] if self.fatal else []
        for name, counts in self.endpoints.items():
            if counts.fatal is not None:
                found.append(f"{self.source}.{name}: {counts.fatal}")
            found += [f"{self.source}.{name}: {e}" for e in counts.errors]
        return found


def run_source(
    run: Run, source: Source, window: Window, only: list[str] | None = None
) -> SourceResult:
    """Fetch the source's endpoints (or `only` these) concurrently; the result says what happened."""
    result = SourceResult(source.name)
    settings = run.settings
    endpoints = [source.endpoint(n) for n in only] if only else list(source.endpoints)
    try:
        with source_lock(settings.state_dir, source.name):
            client = ApiClient(source, settings, run.metrics)
            workers = source.concurrency or settings.concurrency
            pool = ThreadPoolExecutor(workers, thread_name_prefix=f"{source.name}-page")
            ctx = SourceContext(
                source=source,
                client=client,
                pool=pool,
                destination=run.destination,
                state=StateStore(settings.state_dir, source.name),
                quarantine_dir=settings.quarantine_dir,
                batch_records=settings.batch_records,
                metrics=run.metrics,
                stop=run.stop,
            )
            try:
                _fetch_all(ctx, endpoints, window, result)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
                client.close()
            tokens = getattr(client.session.auth, "issued", None)
            result.oauth_tokens = tokens if isinstance(tokens, int) else None
            if result.clean and not window.backfill:
                ctx.state.mark_success()
                run.metrics.succeeded(source.name)
    except (UserError, JobError) as exc:
        result.fatal = exc
    return result


def _fetch_all(
    ctx: SourceContext, endpoints: list[Any], window: Window, result: SourceResult
) -> None:
    with ThreadPoolExecutor(len(endpoints), thread_name_prefix=f"{ctx.source.name}-ep") as ex:
        futures = {e.name: ex.submit(fetch_endpoint, ctx, e, window) for e in endpoints}
        for name, future in futures.items():
            try:
                result.endpoints[name] = future.result()
            except (UserError, JobError) as exc:  # the sink could not be opened
                result.endpoints[name] = EndpointCounts(fatal=exc)
