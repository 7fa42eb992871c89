"""The batch run over a window of dates: read, classify, write three outputs, check them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from de_common.faults import fault_point
from de_common.run import JobFailed, Summary
from spark_etl import quality, transform
from spark_etl.config import SparkEtlSettings
from spark_etl.schemas import DAILY_OUT, DRIVERS, QUARANTINE_OUT, TRIPS_OUT, ZONES
from spark_etl.storage import Storage, require
from spark_etl.window import DateWindow

OUTPUTS = ("trips", "daily", "quarantine")
SKIPS = ("duplicate", "other_date", "too_late")


@dataclass
class Counts:
    """The run's outcome counts, from one small aggregate over the classified records."""

    by_outcome: Counter[str] = field(default_factory=Counter)
    by_reason: Counter[str] = field(default_factory=Counter)
    trips_dates: set[date] = field(default_factory=set)
    rejected_dates: set[date] = field(default_factory=set)
    kept: int = 0

    def summary(self, window: DateWindow, extra: dict[str, object]) -> Summary:
        """The run contract's summary: in = out + rejected + duplicate + other_date + too_late."""
        ok = self.by_outcome["ok"]
        skipped = {
            "duplicate": ok - self.kept,
            "other_date": self.by_outcome["other_date"],
            "too_late": self.by_outcome["too_late"],
        }
        return Summary(
            records_in=sum(self.by_outcome.values()),
            records_out=self.kept,
            records_rejected=self.by_outcome["rejected"],
            records_skipped=skipped,
            extra={
                "first_date": window.first.isoformat(),
                "last_date": window.last.isoformat(),
                "rejected_by_reason": dict(sorted(self.by_reason.items())),
                **extra,
            },
        )


def count(classified: DataFrame) -> Counts:
    """Outcome counts per date and reason, and the distinct clean trips (a few rows collected)."""
    counts = Counts()
    grouped = classified.groupBy("date", "outcome", "reason").count().collect()
    for row in grouped:
        counts.by_outcome[row["outcome"]] += row["count"]
        if row["outcome"] == "rejected":
            counts.by_reason[row["reason"]] += row["count"]
            counts.rejected_dates.add(row["date"])
        if row["outcome"] == "ok":
            counts.trips_dates.add(row["date"])
    ok = classified.where(F.col("outcome") == "ok")
    kept = ok.agg(F.countDistinct("trip_id").alias("n")).first()
    counts.kept = int(kept["n"]) if kept else 0
    return counts


def _write(frame: DataFrame, url: str, window: DateWindow, files: int) -> None:
    # Each (date, salt) pair goes to one task, so a date gets at most `files` files.
    tasks = max(1, len(window.dates()) * files)
    if files == 1:
        spread = frame.repartition(tasks, "date")
    else:
        salt = F.pmod(F.xxhash64(F.coalesce(F.col("trip_id"), F.lit(""))), F.lit(files))
        spread = frame.repartition(tasks, F.col("date"), salt)
    (
        spread.write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy("date")
        .parquet(url)
    )


def _read_back(spark: SparkSession, out: Storage, name: str, window: DateWindow) -> DataFrame:
    schema = {"trips": TRIPS_OUT, "daily": DAILY_OUT, "quarantine": QUARANTINE_OUT}[name]
    if not out.partition_dates(name):
        return spark.createDataFrame([], schema)
    frame = spark.read.schema(schema).parquet(out.url(name))
    return frame.where(F.col("date").between(F.lit(window.first), F.lit(window.last)))


def _empty_partitions(out: Storage, name: str, window: DateWindow, keep: set[date]) -> list[str]:
    """Delete the owned dates' partitions that the run produced nothing for."""
    emptied = []
    for day in window.dates():
        if day not in keep and out.delete(f"{name}/date={day.isoformat()}"):
            emptied.append(day.isoformat())
    return emptied


def resolve_window(
    source: Storage, out: Storage, settings: SparkEtlSettings, first: date | None, last: date | None
) -> DateWindow | None:
    """The dates to run: the given range, or (incremental) every landed date not yet final."""
    if first is not None and last is not None:
        return DateWindow(first, last, settings.lateness_days)
    landed = source.partition_dates("trips")
    if not landed:
        return None
    done = out.partition_dates("trips")
    # Dates within the lateness allowance of the newest output may still receive late records.
    start = landed[0]
    if done:
        start = max(start, date.fromordinal(done[-1].toordinal() + 1 - settings.lateness_days))
    if first is not None:
        start = first
    end = last or landed[-1]
    return DateWindow(start, max(start, end), settings.lateness_days) if start <= end else None


def execute(spark: SparkSession, settings: SparkEtlSettings, window: DateWindow) -> Summary:
    """Run one window: everything the run owns is replaced, nothing else is touched."""
    source, out = Storage(spark, settings.source), Storage(spark, settings.output)
    for dimension in ("zones.csv", "drivers.csv"):
        require(source, dimension)
    landed = set(source.partition_dates("trips"))
    folders = [
        source.url(f"trips/dt={d.isoformat()}") for d in window.landing_dates() if d in landed
    ]
    trips = transform.read_trips(spark, source.root, folders)
    zones = transform.read_dimension(spark, source.url("zones.csv"), ZONES)
    drivers = transform.read_dimension(spark, source.url("drivers.csv"), DRIVERS)
    classified = transform.classify(trips, zones, drivers, window).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    try:
        counts = count(classified)
        owned = counts.by_outcome["ok"] + counts.by_outcome["rejected"]
        rate = counts.by_outcome["rejected"] / owned if owned else 0.0
        extra: dict[str, object] = {"landing_folders": len(folders), "output": settings.output}
        if rate > settings.max_reject_rate:
            raise JobFailed(
                f"{rate:.1%} of the records were rejected (max_reject_rate "
                f"{settings.max_reject_rate:.1%}): nothing written",
                counts.summary(window, extra),
            )
        _write(
            transform.deduplicate(classified),
            out.url("trips"),
            window,
            settings.files_per_partition,
        )
        fault_point("run.after_trips")
        written = _read_back(spark, out, "trips", window)
        _write(transform.daily(written), out.url("daily"), window, 1)
        fault_point("run.after_daily")
        _write(transform.quarantine(classified), out.url("quarantine"), window, 1)
        emptied = {
            "trips": _empty_partitions(out, "trips", window, counts.trips_dates),
            "daily": _empty_partitions(out, "daily", window, counts.trips_dates),
            "quarantine": _empty_partitions(out, "quarantine", window, counts.rejected_dates),
        }
    finally:
        classified.unpersist()
    checks = quality.check(
        _read_back(spark, out, "trips", window),
        _read_back(spark, out, "daily", window),
        _read_back(spark, out, "quarantine", window),
        quality.Expected(trips=counts.kept, rejected=counts.by_outcome["rejected"]),
    )
    extra["partitions_emptied"] = {k: v for k, v in emptied.items() if v}
    summary = counts.summary(window, extra)
    summary.details["quality"] = [
        {"check": c.name, "ok": c.ok, "found": str(c.found), "expected": str(c.expected)}
        for c in checks
    ]
    failed = quality.report(checks)
    if failed:
        raise JobFailed(f"quality checks failed: {failed}", summary)
    return summary
