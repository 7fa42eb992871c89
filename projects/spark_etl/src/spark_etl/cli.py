"""spark-etl: run (dates or incremental), transform (one date of orders), stream, generate, demo
(and config from de_common)."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path

import click

from de_common.cli import json_option, make_cli, pass_run
from de_common.flags import setting_flags
from de_common.run import Run
from spark_etl import jobs
from spark_etl.config import SparkEtlSettings
from spark_etl.generate import Shape
from spark_etl.orders_batch import OrdersRequest

S = SparkEtlSettings
SPARK_FLAGS = ("master", "driver_memory", "shuffle_partitions", "packages", "s3_endpoint")
DATE = click.DateTime(formats=["%Y-%m-%d"])

cli = make_cli(
    "spark_etl",
    SparkEtlSettings,
    help="PySpark batch ETL: explicit schemas, partitioned Parquet with dynamic overwrite, "
    "quality checks, idempotent reruns, local or on a cluster.",
)


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


@cli.command(name="run")
@click.option("--from", "first", type=DATE, help="First event date to rebuild (YYYY-MM-DD).")
@click.option("--to", "last", type=DATE, help="Last event date to rebuild (default: --from).")
@setting_flags(S, "source", "output", "files_per_partition", "lateness_days", "max_reject_rate")
@setting_flags(S, *SPARK_FLAGS)
@json_option
@pass_run
def run_command(
    run: Run[SparkEtlSettings], first: datetime | None, last: datetime | None, as_json: bool
) -> None:
    """Rebuild --from..--to (each date's partitions replaced), or without dates the new ones."""
    start, end = _day(first), _day(last)
    if start and not end:
        end = start
    run.execute(lambda: jobs.run(run.settings, start, end), as_json)


@cli.command(name="transform")
@click.argument("source")
@click.option("--date", "day", type=DATE, required=True, help="The date to transform (YYYY-MM-DD).")
@click.option("--out", required=True, help="Parquet root: the rows go to <out>/date=YYYY-MM-DD/.")
@click.option("--csv-out", required=True, help="The same rows as one headered CSV file.")
@setting_flags(S, "files_per_partition", "max_reject_rate", *SPARK_FLAGS)
@json_option
@pass_run
def transform_command(
    run: Run[SparkEtlSettings], source: str, day: datetime, out: str, csv_out: str, as_json: bool
) -> None:
    """One date of orders (api_fetcher JSONL: a file or folder, local, hdfs:// or s3a://) -> its
    Parquet partition (dynamic overwrite) and one CSV; the latest update of each id kept."""
    req = OrdersRequest(source=source, day=day.date(), out=out, csv_out=csv_out)
    run.execute(lambda: jobs.transform_orders(run.settings, req), as_json)


@cli.command()
@click.option(
    "--until-caught-up", is_flag=True, help="Stop once everything in the topic now is published."
)
@setting_flags(S, "kafka_bootstrap", "kafka_topic", "checkpoint", "max_offsets_per_trigger")
@setting_flags(S, "source", "output", "lateness_days", *SPARK_FLAGS)
@json_option
@pass_run
def stream(run: Run[SparkEtlSettings], until_caught_up: bool, as_json: bool) -> None:
    """Stream the Kafka topic of CSV trip lines into trips/ and quarantine/ (checkpointed)."""
    run.execute(lambda: jobs.stream_topic(run.settings, until_caught_up), as_json)


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Local folder.")
@click.option("--rows", type=click.IntRange(min=0), default=100_000, show_default=True)
@click.option("--days", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--start", type=DATE, default="2026-11-01", show_default=True, help="First day.")
@click.option("--seed", type=int, default=42, show_default=True)
@json_option
@pass_run
def generate(
    run: Run[SparkEtlSettings],
    out: Path,
    rows: int,
    days: int,
    start: datetime,
    seed: int,
    as_json: bool,
) -> None:
    """Write a seeded, messy landing zone (skewed keys, late records, duplicates)."""
    shape = Shape(rows=rows, days=days, start=start.date(), seed=seed)
    run.execute(lambda: jobs.generate(out, shape), as_json)


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), help="Folder (default: a temp folder).")
@json_option
@pass_run
def demo(run: Run[SparkEtlSettings], out: Path | None, as_json: bool) -> None:
    """Generate 20,000 trips over 5 days, then run the job on them."""
    folder = out or Path(tempfile.mkdtemp(prefix="spark_etl-demo-"))
    run.execute(lambda: jobs.demo(run.settings, folder), as_json)


def main() -> None:
    """Console script entry point."""
    cli()
