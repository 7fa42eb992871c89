"""Prometheus helpers: records by outcome, run duration, last success; served or pushed."""

from __future__ import annotations

import time
import urllib.error
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    pushadd_to_gateway,
    start_http_server,
)

from de_common.errors import ServiceUnavailable

DURATION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


@dataclass
class JobMetrics:
    """The metrics every job reports, on a registry the project may add its own to."""

    project: str
    registry: CollectorRegistry
    records: Counter
    duration: Histogram
    last_success: Gauge
    runs: Counter

    def count(self, outcome: str, n: int = 1) -> None:
        """Count n records with this outcome (ok, rejected, duplicate, ...)."""
        if n:
            self.records.labels(project=self.project, outcome=outcome).inc(n)

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Observe the wall time of the block, whether it succeeds or not."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.duration.labels(project=self.project).observe(time.perf_counter() - start)

    def mark_success(self) -> None:
        """Record now as the last successful run."""
        self.last_success.labels(project=self.project).set_to_current_time()


def job_metrics(project: str, registry: CollectorRegistry | None = None) -> JobMetrics:
    """A fresh set of job metrics on its own registry unless one is given."""
    reg = registry if registry is not None else CollectorRegistry()
    return JobMetrics(
        project=project,
        registry=reg,
        records=Counter(
            "de_records", "Records processed, by outcome.", ["project", "outcome"], registry=reg
        ),
        duration=Histogram(
            "de_job_duration_seconds",
            "Wall time of one run.",
            ["project"],
            buckets=DURATION_BUCKETS,
            registry=reg,
        ),
        last_success=Gauge(
            "de_job_last_success_timestamp_seconds",
            "Unix time of the last successful run.",
            ["project"],
            registry=reg,
        ),
        runs=Counter(
            "de_job_runs", "Finished runs, by status.", ["project", "status"], registry=reg
        ),
    )


def serve(port: int, registry: CollectorRegistry, addr: str = "127.0.0.1") -> tuple[Any, Any]:
    """Expose /metrics for a long-running service; returns (server, thread) to stop it."""
    return start_http_server(port, addr=addr, registry=registry)


def push(
    gateway_url: str,
    job: str,
    registry: CollectorRegistry,
    grouping_key: dict[str, str] | None = None,
) -> None:
    """Add this batch job's metrics to the Pushgateway (pushadd keeps other instances' series)."""
    try:
        pushadd_to_gateway(gateway_url, job=job, registry=registry, grouping_key=grouping_key)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServiceUnavailable("pushgateway", gateway_url, str(reason)) from None
