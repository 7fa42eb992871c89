"""The worker's own Prometheus series on top of de_common's job metrics."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

from de_common.metrics import JobMetrics


@dataclass
class QueueMetrics:
    """Messages by outcome, tasks running, task duration."""

    messages: Counter
    in_flight: Gauge
    task_seconds: Histogram

    def count(self, outcome: str, n: int = 1) -> None:
        """Count n messages as published, acked, retried, parked, duplicate, requeued, ..."""
        if n:
            self.messages.labels(outcome=outcome).inc(n)


def queue_metrics(job: JobMetrics) -> QueueMetrics:
    """Register the queue series on the job's registry."""
    return QueueMetrics(
        messages=Counter(
            "rabbitmq_worker_messages",
            "Messages by outcome (published, returned, acked, retried, parked, duplicate, requeued).",
            ["outcome"],
            registry=job.registry,
        ),
        in_flight=Gauge(
            "rabbitmq_worker_in_flight",
            "Deliveries taken but not yet acked.",
            registry=job.registry,
        ),
        task_seconds=Histogram(
            "rabbitmq_worker_task_seconds",
            "Time a handler ran, by task.",
            ["task"],
            buckets=(0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60),
            registry=job.registry,
        ),
    )
