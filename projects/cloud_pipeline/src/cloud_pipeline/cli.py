"""cloud-pipeline: ingest, upload, produce, drain, demo (and config from de_common)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import click

from cloud_pipeline import jobs
from cloud_pipeline.config import CloudPipelineSettings
from de_common.cli import json_option, make_cli, pass_run
from de_common.flags import setting_flags
from de_common.run import Run

cli = make_cli(
    "cloud_pipeline",
    CloudPipelineSettings,
    help="API -> S3 data lake with boto3: raw and curated layers, multipart uploads, Kinesis "
    "PutRecords batching and a Lambda-style handler",
)

STORE = ("lake_url", "region", "endpoint_url", "sse", "kms_key_id", "checksum")
UPLOADS = ("multipart_threshold_mb", "part_size_mb", "concurrency")
KINESIS = ("stream", "batch_max_records", "batch_max_bytes", "max_attempts", "backoff_s")


def day_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--date",
        "day",
        type=click.DateTime(["%Y-%m-%d"]),
        default=None,
        help="The data interval (a UTC day); default: yesterday.",
    )(func)


def as_day(value: datetime | None) -> date:
    if value is None:
        return date.fromordinal(datetime.now(UTC).date().toordinal() - 1)
    return value.date()


@cli.command()
@day_option
@setting_flags(CloudPipelineSettings, "source", "source_url", "timeout_s", *STORE, *UPLOADS)
@json_option
@pass_run
def ingest(run: Run[CloudPipelineSettings], day: datetime | None, as_json: bool) -> None:
    """Fetch one day from the API: raw/ as received, errors/ with reasons, curated/ as Parquet."""
    run.execute(lambda: jobs.ingest(run.settings, as_day(day)), as_json)


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--prefix", default="", help="Key prefix under the lake root.")
@setting_flags(CloudPipelineSettings, *STORE, *UPLOADS)
@json_option
@pass_run
def upload(
    run: Run[CloudPipelineSettings], inputs: tuple[str, ...], prefix: str, as_json: bool
) -> None:
    """Upload files and folders (multipart when large, leftovers of killed uploads aborted)."""
    run.execute(lambda: jobs.upload(run.settings, list(inputs), prefix), as_json)


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@setting_flags(CloudPipelineSettings, "partition_key", *KINESIS, *STORE)
@json_option
@pass_run
def produce(run: Run[CloudPipelineSettings], inputs: tuple[str, ...], as_json: bool) -> None:
    """Send JSON lines to Kinesis in PutRecords batches, retrying only the failed records."""
    run.execute(lambda: jobs.produce(run.settings, list(inputs)), as_json)


@cli.command()
@click.option("--micro-batch", default=100, show_default=True, help="Records per S3 object.")
@click.option("--limit", default=1000, show_default=True, help="Records per GetRecords call.")
@setting_flags(CloudPipelineSettings, "stream", *STORE)
@json_option
@pass_run
def drain(run: Run[CloudPipelineSettings], micro_batch: int, limit: int, as_json: bool) -> None:
    """Read the stream from its checkpoints and run the Lambda handler on each batch."""
    run.execute(lambda: jobs.drain(run.settings, micro_batch, limit), as_json)


@cli.command()
@day_option
@setting_flags(CloudPipelineSettings, *STORE)
@json_option
@pass_run
def demo(run: Run[CloudPipelineSettings], day: datetime | None, as_json: bool) -> None:
    """Start the bundled API (1,000 orders, bad records, a broken page) and ingest one day."""
    run.execute(lambda: jobs.demo(run.settings, as_day(day) if day else date(2024, 1, 1)), as_json)


def main() -> None:
    """Console script entry point."""
    cli()
