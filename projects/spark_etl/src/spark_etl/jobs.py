"""The jobs: each takes its settings (and arguments) and returns a Summary for the run contract."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from de_common.config import with_overrides
from de_common.errors import JobError, UserError
from de_common.run import Summary
from spark_etl import batch, orders_batch, session, stream
from spark_etl.config import SparkEtlSettings
from spark_etl.generate import Shape, write_landing
from spark_etl.orders_batch import OrdersRequest
from spark_etl.storage import Storage, short

DEMO_START = date(2026, 11, 1)


@contextmanager
def spark_for(settings: SparkEtlSettings, packages: list[str]) -> Iterator[SparkSession]:
    """The run's session; stopped after unless it was already running (a test's, spark-submit's)."""
    existing = SparkSession.getActiveSession()
    spark = session.start(settings, "spark_etl", packages)
    try:
        yield spark
    finally:
        if existing is None and not session.under_spark_submit():
            spark.stop()


def run(settings: SparkEtlSettings, first: date | None, last: date | None) -> Summary:
    """Rebuild the dates [first, last], or (no dates) the new ones since the last run."""
    if first and last and first > last:
        raise UserError(f"--from {first} is after --to {last}")
    if "://" not in settings.source and not Path(settings.source, "trips").is_dir():
        # A local landing zone that is not there: say so before a JVM starts.
        raise UserError(f"input not found: {Path(settings.source, 'trips')}")
    with spark_for(settings, session.packages_for(settings.source, settings.output)) as spark:
        try:
            return run_in(spark, settings, first, last)
        except (PySparkException, Py4JJavaError) as exc:
            raise JobError(f"spark: {short(exc)}") from exc


def run_in(
    spark: SparkSession, settings: SparkEtlSettings, first: date | None, last: date | None
) -> Summary:
    """`run` on a given session (tests share one per module)."""
    source, out = Storage(spark, settings.source), Storage(spark, settings.output)
    window = batch.resolve_window(source, out, settings, first, last)
    if window is None:
        if not source.exists("trips"):
            raise UserError(f"input not found: {source.url('trips')}")
        return Summary(extra={"first_date": None, "last_date": None, "output": settings.output})
    return batch.execute(spark, settings, window)


def transform_orders(settings: SparkEtlSettings, req: OrdersRequest) -> Summary:
    """One date of orders -> its Parquet partition and one CSV (see orders_batch)."""
    if "://" not in req.source and not Path(req.source).exists():
        # A local input that is not there: say so before a JVM starts.
        raise UserError(f"input not found: {req.source}")
    packages = session.packages_for(req.source, req.out, req.csv_out)
    with spark_for(settings, packages) as spark:
        try:
            return orders_batch.run(spark, settings, req)
        except (PySparkException, Py4JJavaError) as exc:
            raise JobError(f"spark: {short(exc)}") from exc


def stream_topic(settings: SparkEtlSettings, until_caught_up: bool) -> Summary:
    """Stream the Kafka topic into the Parquet layout; restartable from its checkpoint."""
    stream.reachable(settings.kafka_bootstrap)
    packages = [session.KAFKA_SQL, *session.packages_for(settings.source, settings.output)]
    with spark_for(settings, packages) as spark:
        try:
            return stream.start(spark, settings, until_caught_up).summary()
        except (PySparkException, Py4JJavaError) as exc:
            raise JobError(f"spark: {short(exc)}") from exc


def generate(folder: Path, shape: Shape) -> Summary:
    """Write a seeded landing zone (trips by landing day, zones, drivers) into a local folder."""
    if shape.rows < 0 or shape.days < 1:
        raise UserError("--rows must be >= 0 and --days >= 1")
    written = write_landing(folder, shape)
    return Summary(
        records_in=written,
        records_out=written,
        extra={"landing": str(folder), "days": shape.days, "start": shape.start.isoformat()},
    )


def demo(settings: SparkEtlSettings, folder: Path) -> Summary:
    """Generate 20,000 trips over 5 days in `folder`, then run every landed date."""
    landing, lake = folder / "landing", folder / "lake"
    write_landing(landing, Shape(rows=20_000, days=5, start=DEMO_START, seed=7))
    settings = with_overrides(settings, source=str(landing), output=str(lake))
    summary = run(settings, None, None)
    # For the showcase page: the trips each date holds, from the written files' footers.
    import pyarrow.parquet as pq

    per_date = {
        part.name: sum(pq.ParquetFile(f).metadata.num_rows for f in part.glob("*.parquet"))
        for part in sorted((lake / "trips").glob("date=*"))
    }
    summary.extra["figure"] = {
        "title": "trips per date in the lake",
        "unit": "trips",
        "bars": per_date,
    }
    return summary
