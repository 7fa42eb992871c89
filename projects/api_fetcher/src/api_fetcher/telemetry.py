"""The project's own Prometheus series on top of de_common's job metrics, per source."""

from __future__ import annotations

import threading
from collections import Counter as Tally
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge, Histogram

from de_common.metrics import JobMetrics

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclass
class SourceTally:
    """What one source's requests did in this process, for the summary."""

    statuses: Tally[str] = field(default_factory=Tally)
    retries: int = 0
    latency_sum_s: float = 0.0


@dataclass
class FetchMetrics:
    """Requests by status, retries, records, request latency, last success, per source."""

    job: JobMetrics
    requests: Counter
    retries: Counter
    records: Counter
    latency: Histogram
    last_success: Gauge
    tallies: dict[str, SourceTally] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tally(self, source: str) -> SourceTally:
        with self._lock:
            return self.tallies.setdefault(source, SourceTally())

    def request(self, source: str, status: str, seconds: float | None) -> None:
        """One HTTP answer (or `error` for a failed connection); its latency when it came."""
        self.requests.labels(source=source, status=status).inc()
        tally = self.tally(source)
        with self._lock:
            tally.statuses[status] += 1
            if seconds is not None:
                tally.latency_sum_s += seconds
        if seconds is not None:
            self.latency.labels(source=source).observe(seconds)

    def retried(self, source: str, n: int) -> None:
        if n:
            self.retries.labels(source=source).inc(n)
            tally = self.tally(source)
            with self._lock:
                tally.retries += n

    def count(self, source: str, outcome: str, n: int) -> None:
        if n:
            self.records.labels(source=source, outcome=outcome).inc(n)

    def succeeded(self, source: str) -> None:
        self.last_success.labels(source=source).set_to_current_time()


def fetch_metrics(job: JobMetrics) -> FetchMetrics:
    """Register the API series on the job's registry."""
    reg = job.registry
    return FetchMetrics(
        job=job,
        requests=Counter(
            "api_fetcher_requests", "HTTP answers by source and status.", ["source", "status"],
            registry=reg,
        ),
        retries=Counter(
            "api_fetcher_retries", "Requests sent again (5xx, 429, connection errors).", ["source"],
            registry=reg,
        ),
        records=Counter(
            "api_fetcher_records", "Records by source and outcome.", ["source", "outcome"],
            registry=reg,
        ),
        latency=Histogram(
            "api_fetcher_request_seconds", "Time to an HTTP answer.", ["source"],
            buckets=LATENCY_BUCKETS, registry=reg,
        ),
        last_success=Gauge(
            "api_fetcher_source_last_success_timestamp_seconds",
            "Unix time of the last run of a source that finished cleanly.", ["source"],
            registry=reg,
        ),
    )  # fmt: skip
