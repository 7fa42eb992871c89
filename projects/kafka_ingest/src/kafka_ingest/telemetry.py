"""The project's own Prometheus series on top of de_common's job metrics."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge

from de_common.metrics import JobMetrics


@dataclass
class IngestMetrics:
    """Messages by outcome and consumer lag per partition."""

    job: JobMetrics
    messages: Counter
    lag: Gauge

    def count(self, outcome: str, n: int = 1) -> None:
        """Count n messages as produced, consumed, failed, dlq or duplicate."""
        if n:
            self.messages.labels(outcome=outcome).inc(n)

    def set_lag(self, topic: str, partition: int, lag: int) -> None:
        """The distance from the committed offset to the high watermark."""
        self.lag.labels(topic=topic, partition=str(partition)).set(lag)


def ingest_metrics(job: JobMetrics) -> IngestMetrics:
    """Register the Kafka series on the job's registry."""
    return IngestMetrics(
        job=job,
        messages=Counter(
            "kafka_ingest_messages",
            "Kafka messages by outcome (produced, consumed, failed, dlq, duplicate).",
            ["outcome"],
            registry=job.registry,
        ),
        lag=Gauge(
            "kafka_ingest_consumer_lag",
            "High watermark minus committed offset, per partition.",
            ["topic", "partition"],
            registry=job.registry,
        ),
    )
