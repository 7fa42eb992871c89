"""One function per job command: the settings (and inputs) in, a balanced Summary out.

Every record a job reads is out (stored, produced, valid), rejected (to the DLQ, invalid) or skipped
for a named reason (`duplicate`: a sink already held it; `undelivered`: the broker never
acknowledged it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from de_common.run import JobFailed, Summary
from kafka_ingest.config import KafkaIngestSettings
from kafka_ingest.consumer import ConsumeResult, StopWhen
from kafka_ingest.demo import POISON, run_demo
from kafka_ingest.producer import produce as produce_items
from kafka_ingest.replay import ReplayStart
from kafka_ingest.runner import run_consume, run_replay, run_transform
from kafka_ingest.sources import Generated, open_source
from kafka_ingest.telemetry import IngestMetrics

# How many invalid records `validate` names in its summary (all are counted).
EXAMPLES = 10


def produce(
    settings: KafkaIngestSettings,
    metrics: IngestMetrics,
    inputs: Sequence[str] = (),
    fmt: str = "auto",
    generated: Generated | None = None,
) -> Summary:
    """Validate the inputs' events (or generated ones) and produce them keyed and idempotently;
    invalid ones go to the DLQ. Unacknowledged messages fail the run after it is counted."""
    items = generated.items() if generated is not None else open_source(inputs, fmt)
    result = produce_items(settings, items, metrics)
    summary = Summary(
        records_in=result.records_in,
        records_out=result.produced,
        records_rejected=result.rejected,
        records_skipped={"undelivered": result.failed},
        extra={
            "topic": settings.topic,
            "dlq_topic": settings.dlq(),
            "backpressure_waits": result.backpressure_waits,
            "errors": result.errors,
        },
    )
    if result.failed:
        raise JobFailed(f"{result.failed} message(s) were not acknowledged by the broker", summary)
    return summary


def validate(inputs: Sequence[str], fmt: str = "auto") -> Summary:
    """Check the inputs against the event contract exactly as `produce` would, with no broker:
    valid events are out, invalid ones rejected (the first few named with their line)."""
    valid = invalid = 0
    examples: list[dict[str, str]] = []
    for item in open_source(inputs, fmt):
        problem = item.problem()
        if problem is None:
            valid += 1
            continue
        invalid += 1
        if len(examples) < EXAMPLES:
            examples.append({"origin": item.origin, "error": problem})
    return Summary(
        records_in=valid + invalid,
        records_out=valid,
        records_rejected=invalid,
        extra={"invalid_examples": examples},
    )


def consumer_summary(result: ConsumeResult, **extra: Any) -> Summary:
    """A consumer run's summary: in = out (newly stored) + rejected (DLQ) + duplicates."""
    own = {
        k: v
        for k, v in asdict(result).items()
        if k not in {"records_in", "written", "duplicates", "dlq"}
    }
    return Summary(
        records_in=result.records_in,
        records_out=result.written,
        records_rejected=result.dlq,
        records_skipped={"duplicate": result.duplicates},
        extra=own | extra,
    )


def consume(
    settings: KafkaIngestSettings, metrics: IngestMetrics, stop: StopWhen, use_async: bool = False
) -> Summary:
    """Consume in the group into the sinks, committing after each durable batch, until stopped."""
    result = run_consume(settings, metrics, stop, use_async=use_async)
    return consumer_summary(
        result,
        topic=settings.topic,
        group_id=settings.group_id,
        sinks=settings.sink,
        pipeline="async" if use_async else "sync",
    )


def replay(
    settings: KafkaIngestSettings, metrics: IngestMetrics, start: ReplayStart, idle_timeout_s: float
) -> Summary:
    """Re-read every partition from `start` to its end into the sinks; the group is untouched."""
    result = run_replay(settings, metrics, start, idle_timeout_s)
    return consumer_summary(
        result, topic=settings.topic, from_offset=start.offset, from_timestamp_ms=start.epoch_ms
    )


def transform(
    settings: KafkaIngestSettings,
    metrics: IngestMetrics,
    output_topic: str,
    transactional_id: str,
    idle_timeout_s: float | None,
) -> Summary:
    """Exactly-once topic -> topic: in = out (committed to the output) + rejected (DLQ)."""
    result = run_transform(settings, metrics, output_topic, transactional_id, idle_timeout_s)
    return Summary(
        records_in=result.records_in,
        records_out=result.produced,
        records_rejected=result.dlq,
        extra={
            "output_topic": output_topic,
            "dlq_topic": settings.dlq(),
            "transactions": result.transactions,
            "aborted": result.aborted,
        },
    )


def demo(
    settings: KafkaIngestSettings, metrics: IngestMetrics, events: int, run_id: str
) -> Summary:
    """The showcase: generated events and poison produced, consumed to Parquet, replayed.

    in = events + foreign poison; out = stored by the consumer; rejected = DLQ at the producer
    and at the consumer; the replay's re-reads are reported beside, not counted again.
    """
    result = run_demo(settings, run_id, events, metrics)
    produced, consumed, replayed = result.produced, result.consumed, result.replayed
    return Summary(
        records_in=produced.records_in + len(POISON),
        records_out=consumed.written,
        records_rejected=produced.rejected + consumed.dlq,
        records_skipped={"duplicate": consumed.duplicates, "undelivered": produced.failed},
        extra={
            "topic": result.settings.topic,
            "dlq_topic": result.settings.dlq(),
            "produced": produced.produced,
            "rejected_at_producer": produced.rejected,
            "consumed": consumed.records_in,
            "dlq_at_consumer": consumed.dlq,
            "replayed": replayed.records_in,
            "replay_written": replayed.written,
            "replay_duplicates_skipped": replayed.duplicates,
            "parquet_rows": result.parquet_rows,
            "parquet_dir": str(result.parquet_dir),
            "exactly_once": result.parquet_rows == produced.produced and replayed.written == 0,
            # For the showcase page: where the data is, and each stage's count.
            "output": str(result.parquet_dir.resolve()),
            "figure": {
                "title": "messages through each stage (the replay stores nothing twice)",
                "unit": "messages",
                "bars": {
                    "produced": produced.produced,
                    "DLQ at the producer": produced.rejected,
                    "consumed": consumed.records_in,
                    "DLQ at the consumer": consumed.dlq,
                    "in Parquet": result.parquet_rows,
                    "replayed": replayed.records_in,
                    "stored again by the replay": replayed.written,
                },
            },
        },
    )
