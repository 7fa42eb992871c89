"""The Structured Streaming variant: Kafka CSV lines into the batch job's Parquet layout.

Each micro-batch is classified by the batch job's own functions, then published under names that
carry its batch id (`b0000000007-000.parquet`). Spark replays an unfinished batch with the same
offsets after a crash, and the replay first deletes whatever the batch had published, so a batch
lands exactly once. A trip already published by an earlier batch is a duplicate (the stream keeps
the first version; the batch `run` keeps the latest).
"""

from __future__ import annotations

import logging
import socket
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from pyspark import StorageLevel
from pyspark.errors import StreamingQueryException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from de_common.errors import ServiceUnavailable
from de_common.faults import fault_point
from de_common.run import Summary
from spark_etl import batch, transform
from spark_etl.config import SparkEtlSettings
from spark_etl.schemas import DRIVERS, TRIPS_CSV, TRIPS_OUT, ZONES
from spark_etl.storage import Storage, require
from spark_etl.window import DateWindow

log = logging.getLogger(__name__)
KAFKA_METRICS_NPE = 'the return value of "scala.Option.get()" is null'
RESTARTS = 3
# The stream owns every date: nothing is another run's.
EVERY_DATE = (date(1970, 1, 1), date(9999, 12, 31))
OUTPUTS = ("trips", "quarantine")


def parse(kafka: DataFrame) -> DataFrame:
    """Kafka records -> the CSV columns; the record's timestamp is the day it landed."""
    options = {k: v for k, v in transform.CSV_OPTIONS.items() if k != "header"}
    row = F.from_csv(F.col("value").cast("string"), TRIPS_CSV.simpleString(), options)
    return kafka.select(row.alias("r"), F.to_date("timestamp").alias("landed_on")).select(
        "r.*", "landed_on"
    )


@dataclass
class Publisher:
    """The foreachBatch function: classify, deduplicate against what is published, publish."""

    spark: SparkSession
    settings: SparkEtlSettings
    # Per batch id: a batch replayed in the same process replaces its earlier counts.
    per_batch: dict[int, Counter[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.out = Storage(self.spark, self.settings.output)
        source = Storage(self.spark, self.settings.source)
        for dimension in ("zones.csv", "drivers.csv"):
            require(source, dimension)
        self.zones = transform.read_dimension(self.spark, source.url("zones.csv"), ZONES).cache()
        self.drivers = transform.read_dimension(
            self.spark, source.url("drivers.csv"), DRIVERS
        ).cache()
        self.window = DateWindow(*EVERY_DATE, self.settings.lateness_days)

    def __call__(self, frame: DataFrame, batch_id: int) -> None:
        """Process micro-batch `batch_id` (again, after a crash: same offsets, same result)."""
        tag = f"b{batch_id:010d}"
        classified = transform.classify(parse(frame), self.zones, self.drivers, self.window)
        classified = classified.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            counts = batch.count(classified)
            fresh = self._unpublished(transform.deduplicate(classified), counts.trips_dates, tag)
            staging = f"_staging/{tag}"
            fresh.repartition("date").write.mode("overwrite").partitionBy("date").parquet(
                self.out.url(f"{staging}/trips")
            )
            rejected = transform.quarantine(classified).repartition("date")
            rejected.write.mode("overwrite").partitionBy("date").parquet(
                self.out.url(f"{staging}/quarantine")
            )
            fault_point("stream.after_staging")
            published = self._publish(staging, tag)
        finally:
            classified.unpersist()
        self.per_batch[batch_id] = Counter(
            {
                "in": sum(counts.by_outcome.values()),
                "out": published,
                "rejected": counts.by_outcome["rejected"],
                "duplicate": counts.by_outcome["ok"] - published,
                "too_late": counts.by_outcome["too_late"],
            }
        )
        fault_point("stream.after_publish")

    def _unpublished(self, trips: DataFrame, dates: set[date], tag: str) -> DataFrame:
        if not dates or not self.out.partition_dates("trips"):
            return trips
        # Published by other batches: this batch's own files (a crashed attempt) do not count.
        seen = (
            self.spark.read.schema(TRIPS_OUT)
            .parquet(self.out.url("trips"))
            .where(F.col("date").isin(sorted(dates)))
            .where(~F.input_file_name().contains(f"/{tag}-"))
            .select("trip_id")
        )
        return trips.join(seen, "trip_id", "left_anti")

    def _publish(self, staging: str, tag: str) -> int:
        """Replace this batch's files in trips/ and quarantine/ with the staged ones."""
        for name in OUTPUTS:
            for old in self.out.glob(f"{name}/date=*/{tag}-*.parquet"):
                self.out.delete(old)
            staged = self.out.glob(f"{staging}/{name}/date=*/part-*.parquet")
            for number, path in enumerate(staged):
                partition = path.split("/")[-2]
                self.out.move(path, f"{name}/{partition}/{tag}-{number:03d}.parquet")
        self.out.delete(staging)
        return self._rows(f"trips/date=*/{tag}-*.parquet")

    def _rows(self, pattern: str) -> int:
        files = [self.out.url(p) for p in self.out.glob(pattern)]
        return self.spark.read.schema(TRIPS_OUT).parquet(*files).count() if files else 0

    def summary(self) -> Summary:
        """The run contract's summary over the batches this process finished."""
        totals: Counter[str] = sum(self.per_batch.values(), Counter())
        return Summary(
            records_in=totals["in"],
            records_out=totals["out"],
            records_rejected=totals["rejected"],
            records_skipped={"duplicate": totals["duplicate"], "too_late": totals["too_late"]},
            extra={
                "batches": len(self.per_batch),
                "output": self.settings.output,
                "checkpoint": self.settings.checkpoint,
            },
        )


def reachable(bootstrap: str) -> None:
    """ServiceUnavailable unless one bootstrap server accepts a TCP connection."""
    reason = "no bootstrap servers"
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=5):
                return
        except (OSError, ValueError) as exc:
            reason = str(exc)
    raise ServiceUnavailable("kafka", bootstrap, reason)


def start(spark: SparkSession, settings: SparkEtlSettings, until_caught_up: bool) -> Publisher:
    """Run the stream; with `until_caught_up`, stop once the topic's current end is published."""
    publisher = Publisher(spark, settings)
    source = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap)
        .option("subscribe", settings.kafka_topic)
        .option("startingOffsets", "earliest")
        .option("maxOffsetsPerTrigger", settings.max_offsets_per_trigger)
        .load()
    )
    writer = source.writeStream.foreachBatch(publisher).option(
        "checkpointLocation", settings.checkpoint
    )
    if until_caught_up:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime="5 seconds")
    for attempt in range(1, RESTARTS + 2):
        try:
            writer.start().awaitTermination()
            return publisher
        except StreamingQueryException as exc:
            if KAFKA_METRICS_NPE not in str(exc) or attempt > RESTARTS:
                raise
            # SPARK-55271: pyspark 4.1.1's Kafka source fails its progress report after
            # replaying a batch from the offset log. The batch itself is done (and idempotent
            # anyway), so starting the query again from the checkpoint carries on.
            log.warning("restarting the query after SPARK-55271 (attempt %d)", attempt)
    return publisher
