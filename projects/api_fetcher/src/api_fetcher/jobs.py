"""The jobs: each takes its settings (and inputs) and returns a Summary for the run contract.

Policy lives here: a source that could not be reached or refused the credentials fails the run
(exit 1, or 2 for a configuration problem) after every other source has finished; failed pages
are tolerated up to `max_failed_pages`. Every record is accounted for: records_in = written +
quarantined + duplicates.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from api_fetcher import spec
from api_fetcher.config import ApiFetcherSettings
from api_fetcher.demo import demo_sources, grow_and_run
from api_fetcher.extract import Window
from api_fetcher.pipeline import Run, SourceResult, run_source
from api_fetcher.scheduler import Until, run_on_schedule
from api_fetcher.shutdown import stop_on_signals
from api_fetcher.sinks import destination
from api_fetcher.telemetry import FetchMetrics
from de_common.config import with_overrides
from de_common.errors import UserError
from de_common.run import JobFailed, Summary


@contextmanager
def _run(settings: ApiFetcherSettings, metrics: FetchMetrics) -> Iterator[Run]:
    dest = destination(settings)
    run = Run(settings, dest, metrics, threading.Event())
    try:
        with stop_on_signals(run.stop):
            yield run
    finally:
        dest.close()


def _all_sources(run: Run, sources: list[spec.Source], window: Window) -> list[SourceResult]:
    if len(sources) == 1:
        return [run_source(run, sources[0], window)]
    with ThreadPoolExecutor(len(sources), thread_name_prefix="source") as pool:
        return list(pool.map(lambda s: run_source(run, s, window), sources))


def summarize(
    results: list[SourceResult], settings: ApiFetcherSettings, metrics: FetchMetrics
) -> Summary:
    """One summary over every source run; per-endpoint detail in `details` (--json)."""
    summary = Summary(records_skipped={"duplicate": 0})
    pages = failed = updated = 0
    stopped = False
    detail: dict[str, Any] = {}
    for result in results:
        endpoints = {}
        for name, c in result.endpoints.items():
            summary.records_in += c.records_in
            summary.records_out += c.written
            summary.records_rejected += c.rejected
            summary.records_skipped["duplicate"] += c.duplicates
            pages += c.pages
            failed += c.pages_failed
            updated += c.updated
            stopped = stopped or c.stopped
            row = {k: v for k, v in vars(c).items() if k != "fatal"}
            row["fatal"] = None if c.fatal is None else str(c.fatal)
            endpoints[name] = row
        key = result.source if result.source not in detail else f"{result.source}#{len(detail)}"
        detail[key] = {
            "clean": result.clean,
            "endpoints": endpoints,
            "oauth_tokens": result.oauth_tokens,
        }
    statuses: Counter[str] = Counter()
    retries = 0
    for tally in metrics.tallies.values():
        statuses.update(tally.statuses)
        retries += tally.retries
    summary.extra = {
        "sink": settings.sink,
        "sources": sorted({r.source for r in results}),
        "pages": pages,
        "pages_failed": failed,
        "updated": updated,
        "requests": dict(sorted(statuses.items())),
        "retries": retries,
        "stopped": stopped,
        "quarantine": str(settings.quarantine_dir),
    }
    summary.details = {"by_source": detail}
    return summary


def _finish(summary: Summary, results: list[SourceResult], settings: ApiFetcherSettings) -> Summary:
    errors = [e for r in results for e in r.errors()]
    fatal = [r.fatal for r in results if r.fatal is not None]
    fatal += [c.fatal for r in results for c in r.endpoints.values() if c.fatal is not None]
    if fatal:
        code = 2 if all(isinstance(f, UserError) for f in fatal) else 1
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise JobFailed(f"{errors[0]}{more}", summary, exit_code=code)
    failed = int(summary.extra["pages_failed"])
    if failed > settings.max_failed_pages:
        raise JobFailed(
            f"{failed} pages failed (max_failed_pages={settings.max_failed_pages}); first: {errors[0]}",
            summary,
        )
    return summary


def fetch(settings: ApiFetcherSettings, metrics: FetchMetrics, names: list[str]) -> Summary:
    """Fetch every named source (all by default) once, incrementally from the saved state."""
    sources = spec.load(settings.sources).select(names)
    with _run(settings, metrics) as run:
        results = _all_sources(run, sources, Window())
    return _finish(summarize(results, settings, metrics), results, settings)


def backfill(
    settings: ApiFetcherSettings,
    metrics: FetchMetrics,
    target: tuple[str, list[str]],
    window: Window,
) -> Summary:
    """Fetch a source's records with start <= cursor < end; the saved cursor does not move."""
    name, endpoints = target
    (source,) = spec.load(settings.sources).select([name])
    chosen = [source.endpoint(e) for e in endpoints] if endpoints else list(source.endpoints)
    for endpoint in chosen:
        inc = endpoint.incremental
        if inc is None or inc.end_param is None:
            raise UserError(
                f"endpoint {source.name}.{endpoint.name} has no time filter: set "
                "incremental.param and incremental.end_param to backfill it"
            )
    with _run(settings, metrics) as run:
        results = [run_source(run, source, window, [e.name for e in chosen])]
    return _finish(summarize(results, settings, metrics), results, settings)


def scheduled(
    settings: ApiFetcherSettings, metrics: FetchMetrics, names: list[str], until: Until
) -> Summary:
    """Every source on its own interval until SIGTERM (or `until`); one summary over all runs."""
    sources = spec.load(settings.sources).select(names)
    with _run(settings, metrics) as run:
        timeline = run_on_schedule(run, sources, until)
    summary = summarize(timeline.results, settings, metrics)
    summary.extra["runs"] = dict(Counter(r.source for r in timeline.results))
    summary.extra["overlaps_skipped"] = dict(timeline.overlaps_skipped)
    summary.extra["stopped"] = run.stop.is_set()
    spans = [{"source": s, "start": round(a, 3), "end": round(b, 3)} for s, a, b in timeline.spans]
    summary.details["spans"] = spans
    failed_runs = [
        r for r in timeline.results if r.fatal or any(c.fatal for c in r.endpoints.values())
    ]
    if failed_runs and len(failed_runs) == len(timeline.results):
        return _finish(summary, timeline.results, settings)
    return summary


def demo(settings: ApiFetcherSettings, metrics: FetchMetrics, folder: Path) -> Summary:
    """Start the bundled API, fetch every source (each auth scheme and pagination style), change
    the data, fetch again incrementally; sinks and state under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    with demo_sources(folder) as (sources_file, api, secrets):
        settings = with_overrides(
            settings,
            sources=sources_file,
            output_dir=folder / "data",
            state_dir=folder / "state",
            quarantine_dir=folder / "quarantine",
            secrets={**secrets, **settings.secrets},
        )
        first = fetch(settings, metrics, [])
        second = grow_and_run(api, lambda: fetch(settings, metrics, []))
    return combine(first, second, folder)


def combine(first: Summary, second: Summary, folder: Path) -> Summary:
    """The demo's two runs as one summary."""
    skipped = Counter(first.records_skipped) + Counter(second.records_skipped)
    summary = Summary(
        records_in=first.records_in + second.records_in,
        records_out=first.records_out + second.records_out,
        records_rejected=first.records_rejected + second.records_rejected,
        records_skipped={"duplicate": skipped["duplicate"]},
    )
    summary.extra = {
        **second.extra,
        "pages": first.extra["pages"] + second.extra["pages"],
        "first_run_out": first.records_out,
        "second_run_in": second.records_in,
        "second_run_out": second.records_out,
        "folder": str(folder),
        # For the showcase page: where the data is, and what each run brought in.
        "output": str(folder / "data"),
        "figure": {
            "title": "records written: full run, then the incremental run after changes",
            "unit": "records",
            "bars": {
                "first run": first.records_out,
                "second run (new + changed)": second.records_out,
                "duplicates dropped": skipped["duplicate"],
                "quarantined": first.records_rejected + second.records_rejected,
            },
        },
    }
    summary.details = {"first_run": first.details, "second_run": second.details}
    return summary
