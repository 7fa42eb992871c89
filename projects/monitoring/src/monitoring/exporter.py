"""/metrics: the poller's latest outcomes as gauges, plus the configured SLAs."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitoring.exposition import Exposition, serve
from monitoring.poller import Poller
from monitoring.series import ALL, CHECK_DURATION, CHECK_UP, JOB_SLA, Series

log = logging.getLogger(__name__)


@dataclass(eq=False)  # registered in a set: identity hashing
class HealthCollector(Collector):
    """Renders whatever the last rounds found; a scrape never waits for a target."""

    poller: Poller
    job_slas: dict[str, float]

    def collect(self) -> Iterator[Metric]:
        families = {s.name: GaugeMetricFamily(s.name, s.help, labels=list(s.labels)) for s in ALL}

        def add(series: Series, labels: tuple[str, ...], value: float) -> None:
            families[series.name].add_metric(list(labels), value)

        for outcome in sorted(self.poller.snapshot().values(), key=lambda o: o.check):
            add(CHECK_UP, (outcome.check, outcome.kind), 1.0 if outcome.up else 0.0)
            add(CHECK_DURATION, (outcome.check, outcome.kind), outcome.duration_s)
            for sample in outcome.samples:
                add(sample.series, sample.labels, sample.value)
        for project, seconds in sorted(self.job_slas.items()):
            add(JOB_SLA, (project,), seconds)
        yield from families.values()


def start(poller: Poller, job_slas: dict[str, float], addr: str, port: int) -> Exposition:
    """Serve /metrics on addr:port from a registry holding only the health collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HealthCollector(poller, job_slas))
    exposition = Exposition(registry)
    exposition.refresh()
    serve(exposition, addr, port)
    log.info("serving /metrics on %s:%d for %d checks", addr, port, len(poller.checks))
    return exposition


def loop(poller: Poller, exposition: Exposition, interval_s: float, stop: threading.Event) -> None:
    """A round every interval_s (counted from the start of the last), rendered once, until stop."""
    while not stop.is_set():
        began = time.monotonic()
        poller.run_round()
        exposition.refresh()
        stop.wait(max(0.0, interval_s - (time.monotonic() - began)))
