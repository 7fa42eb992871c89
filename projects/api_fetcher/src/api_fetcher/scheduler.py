"""`schedule`: every source on its own interval with the `schedule` package.

A source's run happens in its own thread; a tick that comes while the source still runs is skipped
(counted, never queued), and `schedule` computes the next run from the end of a late tick, so a run
that was missed while the process was busy is made up once, not replayed for every missed tick.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import schedule

from api_fetcher.extract import Window
from api_fetcher.pipeline import Run, SourceResult, run_source
from api_fetcher.spec import Source

log = logging.getLogger(__name__)


@dataclass
class Until:
    """When `schedule` returns by itself (else it runs until SIGTERM)."""

    runs: int | None = None
    seconds: float | None = None


@dataclass
class Timeline:
    results: list[SourceResult] = field(default_factory=list)
    spans: list[tuple[str, float, float]] = field(default_factory=list)
    overlaps_skipped: Counter[str] = field(default_factory=Counter)


def run_on_schedule(run: Run, sources: list[Source], until: Until) -> Timeline:
    """Run every source now and then every `interval_s`, until `until` or a stop request."""
    timeline = Timeline()
    lock = threading.Lock()
    running = {s.name: threading.Lock() for s in sources}
    scheduler = schedule.Scheduler()
    started = time.monotonic()

    def one(source: Source) -> None:
        began = time.monotonic()
        try:
            result = run_source(run, source, Window())
        finally:
            running[source.name].release()
        with lock:
            timeline.results.append(result)
            timeline.spans.append((source.name, began, time.monotonic()))
        written = sum(c.written for c in result.endpoints.values())
        log.info("source %s ran: %d records written, clean=%s", source.name, written, result.clean)

    with ThreadPoolExecutor(len(sources), thread_name_prefix="schedule") as pool:

        def launch(source: Source) -> None:
            if run.stop.is_set():
                return
            if not running[source.name].acquire(blocking=False):
                timeline.overlaps_skipped[source.name] += 1
                log.info("source %s is still running: tick skipped", source.name)
                return
            pool.submit(one, source)

        for source in sources:
            scheduler.every(source.interval_s).seconds.do(launch, source)
            launch(source)
        while not run.stop.is_set():
            with lock:
                done = len(timeline.results)
            if until.runs is not None and done >= until.runs:
                break
            if until.seconds is not None and time.monotonic() - started >= until.seconds:
                break
            scheduler.run_pending()
            run.stop.wait(0.05)
        scheduler.clear()
    return timeline
