"""kafka-ingest: produce, consume, replay, lag, topics, transform, demo."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from confluent_kafka import Consumer, KafkaException, Producer

from de_common.cli import Run, Summary, emit_summary, json_option, make_cli, pass_run
from de_common.errors import JobError, UserError
from de_common.metrics import serve
from kafka_ingest.clients import (
    admin,
    consumer_config,
    create_topic,
    ensure_topic,
    producer_config,
    topic_partitions,
)
from kafka_ingest.config import KafkaIngestSettings
from kafka_ingest.consumer import ConsumeResult, StopWhen
from kafka_ingest.lag import group_lag
from kafka_ingest.producer import produce as produce_items
from kafka_ingest.replay import offsets_from_offset, offsets_from_time, parse_time
from kafka_ingest.runner import run_consume, run_replay
from kafka_ingest.sources import generate, open_source
from kafka_ingest.telemetry import IngestMetrics, ingest_metrics
from kafka_ingest.transactional import TransactionalPipe

cli = make_cli(
    "kafka_ingest",
    KafkaIngestSettings,
    help="Validated Kafka ingestion: keyed idempotent producer, at-least-once consumer into "
    "idempotent Parquet/PostgreSQL sinks, DLQ, asyncio stage, exactly-once topic -> topic.",
)

_metrics: dict[int, IngestMetrics] = {}


def metrics_of(run: Run[Any]) -> IngestMetrics:
    """The project's series, registered once per run."""
    key = id(run.metrics)
    if key not in _metrics:
        _metrics[key] = ingest_metrics(run.metrics)
    return _metrics[key]


def finish(run: Run[KafkaIngestSettings]) -> None:
    """Push a batch job's metrics when a Pushgateway is configured."""
    run.push_metrics(run.settings.pushgateway_url)


def kafka_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--bootstrap and --topic, shared by every command."""
    fn = click.option("--topic", help="Topic (KAFKA_INGEST_TOPIC).")(fn)
    return click.option("--bootstrap", help="Bootstrap servers (KAFKA_INGEST_BOOTSTRAP).")(fn)


def sink_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Consumer batching and sink flags."""
    options = [
        click.option("--group", "group_id", help="Consumer group id."),
        click.option("--dlq-topic", help="Dead-letter topic (default <topic>.dlq)."),
        click.option("--batch-size", type=int, help="Records per batch."),
        click.option("--batch-timeout", "batch_timeout_s", type=float, help="Seconds per batch."),
        click.option(
            "--sink",
            type=click.Choice(["parquet", "postgres"]),
            multiple=True,
            help="Where batches go (repeatable).",
        ),
        click.option("--output-dir", type=click.Path(path_type=Path), help="Parquet root."),
        click.option("--postgres-table", help="PostgreSQL table."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def consume_summary(result: ConsumeResult, duration_s: float, **extra: Any) -> Summary:
    """records_in = records_out (written) + records_rejected (DLQ) + duplicates."""
    data = asdict(result)
    return Summary(
        records_in=result.records_in,
        records_out=result.written,
        records_rejected=result.dlq,
        duration_s=duration_s,
        extra={k: v for k, v in data.items() if k not in {"records_in", "written", "dlq"}}
        | {"dlq": result.dlq, "msgs_per_s": round(result.records_in / max(duration_s, 1e-9))}
        | extra,
    )


@cli.command()
@kafka_options
@click.option("--input", "input_path", help="JSONL or CSV file, or - for stdin.")
@click.option("--format", "fmt", type=click.Choice(["auto", "jsonl", "csv"]), default="auto")
@click.option("--generate", "count", type=int, help="Produce N seeded generated events instead.")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--keys", type=int, default=50, show_default=True, help="Distinct keys to generate.")
@click.option(
    "--invalid-every", type=int, default=0, help="Make every Nth generated event invalid."
)
@click.option("--pad-bytes", type=int, default=0, help="Pad generated payloads by this many bytes.")
@click.option("--dlq-topic")
@click.option("--acks", type=click.Choice(["all", "1", "0"]))
@click.option("--compression", type=click.Choice(["none", "gzip", "snappy", "lz4", "zstd"]))
@click.option("--linger-ms", type=int)
@click.option("--batch-bytes", type=int, help="Producer batch.size in bytes.")
@json_option
@pass_run
def produce(
    run: Run[KafkaIngestSettings],
    input_path: str | None,
    fmt: str,
    count: int | None,
    seed: int,
    keys: int,
    invalid_every: int,
    pad_bytes: int,
    as_json: bool,
    **flags: Any,
) -> None:
    """Validate events and produce them keyed, idempotently; invalid ones go to the DLQ."""
    settings = run.with_overrides(**flags)
    if (input_path is None) == (count is None):
        raise UserError("give exactly one of --input PATH|- or --generate N")
    items = (
        generate(count, seed=seed, keys=keys, invalid_every=invalid_every, pad_bytes=pad_bytes)
        if count is not None
        else open_source(input_path or "-", fmt)
    )
    metrics = metrics_of(run)
    started = time.monotonic()
    with run.metrics.timed():
        result = produce_items(settings, items, metrics)
    duration = round(time.monotonic() - started, 3)
    run.metrics.count("ok", result.produced)
    run.metrics.count("rejected", result.rejected)
    emit_summary(
        Summary(
            records_in=result.records_in,
            records_out=result.produced,
            records_rejected=result.rejected,
            duration_s=duration,
            extra={
                "failed": result.failed,
                "dlq": result.rejected,
                "topic": settings.topic,
                "dlq_topic": settings.dlq(),
                "backpressure_waits": result.backpressure_waits,
                "msgs_per_s": round(result.records_in / max(duration, 1e-9)),
                "errors": result.errors,
            },
        ),
        as_json,
    )
    if result.failed:
        raise JobError(f"{result.failed} message(s) were not acknowledged by the broker")
    run.metrics.mark_success()
    finish(run)


@cli.command()
@kafka_options
@sink_options
@click.option("--max-messages", type=int, help="Stop after this many messages.")
@click.option("--idle-timeout", type=float, help="Stop after this many seconds without messages.")
@click.option("--stop-at-end", is_flag=True, help="Stop once the assigned partitions are read.")
@click.option("--async", "use_async", is_flag=True, help="Use the asyncio enrichment pipeline.")
@click.option("--enrich-concurrency", type=int)
@click.option("--enrich-latency-ms", type=float)
@click.option("--metrics-port", type=int, help="Serve /metrics on 127.0.0.1:PORT.")
@json_option
@pass_run
def consume(
    run: Run[KafkaIngestSettings],
    max_messages: int | None,
    idle_timeout: float | None,
    stop_at_end: bool,
    use_async: bool,
    as_json: bool,
    sink: tuple[str, ...],
    **flags: Any,
) -> None:
    """Consume in a group into the sinks; commit after each durable batch; SIGTERM finishes cleanly."""
    settings = run.with_overrides(sink=list(sink) or None, **flags)
    metrics = metrics_of(run)
    if settings.metrics_port:
        serve(settings.metrics_port, run.metrics.registry)
    stop = StopWhen(max_messages=max_messages, idle_timeout_s=idle_timeout, at_end=stop_at_end)
    started = time.monotonic()
    with run.metrics.timed():
        result = run_consume(settings, metrics, stop, use_async=use_async)
    run.metrics.count("ok", result.written)
    run.metrics.count("rejected", result.dlq)
    run.metrics.count("duplicate", result.duplicates)
    duration = round(time.monotonic() - started, 3)
    emit_summary(
        consume_summary(
            result,
            duration,
            topic=settings.topic,
            group=settings.group_id,
            sinks=settings.sink,
            pipeline="async" if use_async else "sync",
        ),
        as_json,
    )
    run.metrics.mark_success()
    finish(run)


@cli.command()
@kafka_options
@sink_options
@click.option("--from-offset", type=int, help="Start every partition at this offset.")
@click.option("--from-timestamp", help="Start at the first message at/after this time (ISO or ms).")
@click.option("--idle-timeout", type=float, default=5.0, show_default=True)
@json_option
@pass_run
def replay(
    run: Run[KafkaIngestSettings],
    from_offset: int | None,
    from_timestamp: str | None,
    idle_timeout: float,
    as_json: bool,
    sink: tuple[str, ...],
    **flags: Any,
) -> None:
    """Re-read a range into the sinks without touching the group's offsets; sinks dedupe."""
    settings = run.with_overrides(sink=list(sink) or None, **flags)
    if (from_offset is None) == (from_timestamp is None):
        raise UserError("give exactly one of --from-offset N or --from-timestamp TIME")
    if from_offset is not None:
        offset = from_offset

        def starts(c: Consumer, t: str, ps: list[int]) -> dict[int, int]:
            return offsets_from_offset(c, t, ps, offset)
    else:
        epoch_ms = parse_time(from_timestamp or "")

        def starts(c: Consumer, t: str, ps: list[int]) -> dict[int, int]:
            return offsets_from_time(c, t, ps, epoch_ms)

    started = time.monotonic()
    result = run_replay(settings, metrics_of(run), starts, idle_timeout)
    duration = round(time.monotonic() - started, 3)
    emit_summary(
        consume_summary(
            result,
            duration,
            topic=settings.topic,
            from_offset=from_offset,
            from_timestamp=from_timestamp,
        ),
        as_json,
    )
    finish(run)


@cli.command()
@kafka_options
@click.option("--group", "group_id", help="Consumer group id.")
@json_option
@pass_run
def lag(run: Run[KafkaIngestSettings], as_json: bool, **flags: Any) -> None:
    """Committed offset vs high watermark per partition."""
    settings = run.with_overrides(**flags)
    started = time.monotonic()
    rows = group_lag(settings, settings.group_id, metrics_of(run))
    emit_summary(
        Summary(
            records_in=0,
            records_out=0,
            records_rejected=0,
            duration_s=round(time.monotonic() - started, 3),
            extra={
                "topic": settings.topic,
                "group": settings.group_id,
                "total_lag": sum(r.lag for r in rows),
                "partitions": [asdict(r) for r in rows],
            },
        ),
        as_json,
    )
    finish(run)


@cli.group()
def topics() -> None:
    """Create and list topics through the AdminClient."""


@topics.command("create")
@click.argument("name")
@click.option("--bootstrap")
@click.option("--partitions", type=int, default=3, show_default=True)
@click.option("--replication-factor", type=int, default=1, show_default=True)
@click.option("--if-not-exists", is_flag=True)
@json_option
@pass_run
def topics_create(
    run: Run[KafkaIngestSettings],
    name: str,
    partitions: int,
    replication_factor: int,
    if_not_exists: bool,
    as_json: bool,
    **flags: Any,
) -> None:
    """Create a topic with N partitions and a replication factor."""
    settings = run.with_overrides(**flags)
    if partitions < 1 or replication_factor < 1:
        raise UserError("--partitions and --replication-factor must be at least 1")
    started = time.monotonic()
    created = create_topic(settings, name, partitions, replication_factor, exist_ok=if_not_exists)
    emit_summary(
        Summary(
            0,
            0,
            0,
            round(time.monotonic() - started, 3),
            {"topic": name, "created": created, "partitions": partitions},
        ),
        as_json,
    )


@topics.command("list")
@click.option("--bootstrap")
@json_option
@pass_run
def topics_list(run: Run[KafkaIngestSettings], as_json: bool, **flags: Any) -> None:
    """List topics with their partition counts."""
    settings = run.with_overrides(**flags)
    started = time.monotonic()
    client = admin(settings)
    try:
        metadata = client.list_topics(timeout=10)
    except KafkaException as exc:
        from de_common.errors import ServiceUnavailable

        raise ServiceUnavailable("kafka", settings.bootstrap, str(exc.args[0])) from None
    found = {
        name: len(t.partitions)
        for name, t in sorted(metadata.topics.items())
        if not name.startswith("__")
    }
    emit_summary(Summary(0, 0, 0, round(time.monotonic() - started, 3), {"topics": found}), as_json)


@cli.command()
@kafka_options
@click.option("--output-topic", required=True, help="Topic the transformed events go to.")
@click.option("--transactional-id", required=True, help="Stable per instance, e.g. transform-0.")
@click.option("--group", "group_id")
@click.option("--dlq-topic")
@click.option("--batch-size", type=int)
@click.option("--idle-timeout", type=float, help="Stop after this many idle seconds.")
@click.option("--fail-after", type=int, hidden=True, help="Abort the first transaction after N.")
@json_option
@pass_run
def transform(
    run: Run[KafkaIngestSettings],
    output_topic: str,
    transactional_id: str,
    idle_timeout: float | None,
    fail_after: int | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Exactly-once topic -> topic: consume, transform, produce and commit offsets atomically."""
    settings = run.with_overrides(**flags)
    consumer = Consumer(consumer_config(settings))
    topic_partitions(consumer, settings.topic, settings)
    topic_partitions(consumer, output_topic, settings)
    ensure_topic(settings, settings.dlq())
    producer = Producer(
        producer_config(settings)
        | {
            "transactional.id": transactional_id,
            "transaction.timeout.ms": 60_000,
            # librdkafka requires a message to time out before its transaction can.
            "delivery.timeout.ms": min(settings.delivery_timeout_ms, 60_000),
        }
    )
    pipe = TransactionalPipe(
        consumer,
        producer,
        output_topic,
        settings.dlq(),
        batch_size=min(settings.batch_size, 5_000),
        fail_after=fail_after,
    )
    consumer.subscribe([settings.topic])
    started = time.monotonic()

    def stop(idle_since: float) -> bool:
        return idle_timeout is not None and time.monotonic() - idle_since >= idle_timeout

    result = pipe.run(stop)
    metrics = metrics_of(run)
    metrics.count("produced", result.produced)
    metrics.count("dlq", result.dlq)
    emit_summary(
        Summary(
            records_in=result.records_in,
            records_out=result.produced,
            records_rejected=result.dlq,
            duration_s=round(time.monotonic() - started, 3),
            extra={
                "transactions": result.transactions,
                "aborted": result.aborted,
                "output_topic": output_topic,
            },
        ),
        as_json,
    )
    finish(run)


@cli.command()
@click.option("--bootstrap")
@click.option("--events", type=int, default=5_000, show_default=True)
@click.option("--output-dir", type=click.Path(path_type=Path))
@json_option
@pass_run
def demo(run: Run[KafkaIngestSettings], events: int, as_json: bool, **flags: Any) -> None:
    """End to end on generated events: topics, produce with poison, consume to Parquet, replay."""
    from kafka_ingest.demo import run_demo

    if flags.get("bootstrap") is None and "KAFKA_INGEST_BOOTSTRAP" not in os.environ:
        # The showcase finds the broker like the tests do: $DE_KAFKA_BOOTSTRAP, else the local
        # service (started now if needed).
        from de_common.services import resolve

        flags["bootstrap"] = resolve("kafka")
    settings = run.with_overrides(**flags)
    emit_summary(run_demo(settings, run.run_id, events, metrics_of(run)), as_json)


def main() -> None:
    """Console entry point."""
    cli()
