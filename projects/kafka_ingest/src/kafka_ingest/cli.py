"""kafka-ingest: produce, validate, consume, replay, transform, demo; lag and topics report state."""

from __future__ import annotations

from dataclasses import asdict

import click

from de_common.cli import json_option, make_cli, pass_run
from de_common.errors import UserError
from de_common.flags import setting_flags
from de_common.run import Run, emit_state
from kafka_ingest import jobs
from kafka_ingest.clients import create_topic, list_topics
from kafka_ingest.config import KafkaIngestSettings
from kafka_ingest.consumer import StopWhen
from kafka_ingest.lag import group_lag
from kafka_ingest.replay import ReplayStart
from kafka_ingest.sources import Generated
from kafka_ingest.telemetry import ingest_metrics

S = KafkaIngestSettings
# The consumer side's settings, shared by consume and replay.
SINK_FLAGS = ("dlq_topic", "batch_size", "batch_timeout_s", "sink", "output_dir", "postgres_table")
# How the Parquet sink rolls its partition-hour buffers into files.
ROLL_FLAGS = ("roll_records", "roll_bytes", "roll_age_s", "buffer_max_bytes")
FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "jsonl", "csv"]),
    default="auto",
    show_default=True,
    help="Input format; auto: csv for *.csv (also compressed), else jsonl.",
)

cli = make_cli(
    "kafka_ingest",
    KafkaIngestSettings,
    help="Validated Kafka ingestion: keyed idempotent producer, at-least-once consumer into "
    "idempotent Parquet/PostgreSQL sinks, DLQ, asyncio stage, exactly-once topic -> topic.",
)


@cli.command()
@click.option(
    "--input",
    "inputs",
    multiple=True,
    help="JSONL or CSV file, glob or folder (gzip/bz2/zip read by content), - for stdin; repeatable.",
)
@FORMAT
@click.option("--generate", "count", type=click.IntRange(min=0), help="Produce N seeded events.")
@click.option("--seed", type=int, default=42, show_default=True, help="Seed of --generate.")
@click.option(
    "--keys", type=click.IntRange(min=1), default=50, show_default=True, help="Distinct keys."
)
@click.option(
    "--invalid-every", type=click.IntRange(min=0), default=0, help="Make every Nth event invalid."
)
@click.option("--pad-bytes", type=click.IntRange(min=0), default=0, help="Pad generated payloads.")
@setting_flags(
    S, "bootstrap", "topic", "dlq_topic", "acks", "compression", "linger_ms", "batch_bytes"
)
@json_option
@pass_run
def produce(
    run: Run[KafkaIngestSettings],
    inputs: tuple[str, ...],
    fmt: str,
    count: int | None,
    seed: int,
    keys: int,
    invalid_every: int,
    pad_bytes: int,
    as_json: bool,
) -> None:
    """Validate events and produce them keyed, idempotently; invalid ones go to the DLQ."""
    if bool(inputs) == (count is not None):
        raise UserError("give exactly one of --input PATH|- or --generate N")
    generated = None if count is None else Generated(count, seed, keys, invalid_every, pad_bytes)
    metrics = ingest_metrics(run.metrics)
    run.execute(
        lambda: jobs.produce(run.settings, metrics, inputs, fmt, generated=generated), as_json
    )


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@FORMAT
@json_option
@pass_run
def validate(
    run: Run[KafkaIngestSettings], inputs: tuple[str, ...], fmt: str, as_json: bool
) -> None:
    """Check files against the event contract as produce would, without a broker."""
    run.execute(lambda: jobs.validate(inputs, fmt), as_json)


@cli.command()
@click.option("--max-messages", type=click.IntRange(min=1), help="Stop after this many messages.")
@click.option("--idle-timeout", type=float, help="Stop after this many seconds without messages.")
@click.option("--stop-at-end", is_flag=True, help="Stop once the assigned partitions are read.")
@click.option("--async", "use_async", is_flag=True, help="Use the asyncio enrichment pipeline.")
@setting_flags(S, "bootstrap", "topic", "group_id", *SINK_FLAGS, *ROLL_FLAGS)
@setting_flags(S, "enrich_concurrency", "enrich_queue_size", "enrich_latency_ms", "metrics_port")
@json_option
@pass_run
def consume(
    run: Run[KafkaIngestSettings],
    max_messages: int | None,
    idle_timeout: float | None,
    stop_at_end: bool,
    use_async: bool,
    as_json: bool,
) -> None:
    """Consume in a group into the sinks; commit after each durable batch; SIGTERM finishes cleanly."""
    stop = StopWhen(max_messages=max_messages, idle_timeout_s=idle_timeout, at_end=stop_at_end)
    metrics = ingest_metrics(run.metrics)
    run.execute(lambda: jobs.consume(run.settings, metrics, stop, use_async), as_json)


@cli.command()
@click.option("--from-offset", type=int, help="Start every partition at this offset.")
@click.option("--from-timestamp", help="Start at the first message at/after this time (ISO or ms).")
@click.option("--idle-timeout", type=float, default=5.0, show_default=True)
@setting_flags(S, "bootstrap", "topic", *SINK_FLAGS, *ROLL_FLAGS)
@json_option
@pass_run
def replay(
    run: Run[KafkaIngestSettings],
    from_offset: int | None,
    from_timestamp: str | None,
    idle_timeout: float,
    as_json: bool,
) -> None:
    """Re-read a range into the sinks without touching the group's offsets; sinks dedupe."""
    start = ReplayStart.parse(from_offset, from_timestamp)
    metrics = ingest_metrics(run.metrics)
    run.execute(lambda: jobs.replay(run.settings, metrics, start, idle_timeout), as_json)


@cli.command()
@click.option("--output-topic", required=True, help="Topic the transformed events go to.")
@click.option("--transactional-id", required=True, help="Stable per instance, e.g. transform-0.")
@click.option("--idle-timeout", type=float, help="Stop after this many idle seconds.")
@setting_flags(S, "bootstrap", "topic", "group_id", "dlq_topic", "batch_size", "metrics_port")
@json_option
@pass_run
def transform(
    run: Run[KafkaIngestSettings],
    output_topic: str,
    transactional_id: str,
    idle_timeout: float | None,
    as_json: bool,
) -> None:
    """Exactly-once topic -> topic: consume, transform, produce and commit offsets atomically."""
    metrics = ingest_metrics(run.metrics)
    run.execute(
        lambda: jobs.transform(run.settings, metrics, output_topic, transactional_id, idle_timeout),
        as_json,
    )


@cli.command()
@click.option("--events", type=click.IntRange(min=1), default=5_000, show_default=True)
@setting_flags(S, "bootstrap", "output_dir")
@json_option
@pass_run
def demo(run: Run[KafkaIngestSettings], events: int, as_json: bool) -> None:
    """End to end on generated events: topics, produce with poison, consume to Parquet, replay."""
    metrics = ingest_metrics(run.metrics)
    run.execute(lambda: jobs.demo(run.settings, metrics, events, run.run_id), as_json)


@cli.command()
@setting_flags(S, "bootstrap", "topic", "group_id")
@json_option
@pass_run
def lag(run: Run[KafkaIngestSettings], as_json: bool) -> None:
    """Committed offset vs high watermark per partition."""
    rows = group_lag(run.settings)
    state = {
        "topic": run.settings.topic,
        "group_id": run.settings.group_id,
        "total_lag": sum(r.lag for r in rows),
        "partitions": [asdict(r) for r in rows],
    }
    emit_state(state, as_json)


@cli.group()
def topics() -> None:
    """Create and list topics through the AdminClient."""


@topics.command("create")
@click.argument("name")
@click.option("--partitions", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--replication-factor", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--if-not-exists", is_flag=True)
@setting_flags(S, "bootstrap")
@json_option
@pass_run
def topics_create(
    run: Run[KafkaIngestSettings],
    name: str,
    partitions: int,
    replication_factor: int,
    if_not_exists: bool,
    as_json: bool,
) -> None:
    """Create a topic with N partitions and a replication factor."""
    created = create_topic(
        run.settings, name, partitions, replication_factor, exist_ok=if_not_exists
    )
    emit_state({"topic": name, "created": created, "partitions": partitions}, as_json)


@topics.command("list")
@setting_flags(S, "bootstrap")
@json_option
@pass_run
def topics_list(run: Run[KafkaIngestSettings], as_json: bool) -> None:
    """List topics with their partition counts."""
    emit_state({"topics": list_topics(run.settings)}, as_json)


def main() -> None:
    """Console entry point."""
    cli()
