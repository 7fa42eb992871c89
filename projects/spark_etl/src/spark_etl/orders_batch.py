"""One date of orders: JSONL in -> Parquet date=D (dynamic overwrite) + one headered CSV + rejects.

Everything the run owns is that one date: its Parquet partition and its rejects partition are
replaced (or deleted when the date has none), every other date is left alone; the CSV is written
beside its target and renamed over it, so a reader sees the old file or the new one.
"""

from __future__ import annotations

import posixpath
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from de_common.errors import JobError, UserError
from de_common.faults import fault_point
from de_common.run import JobFailed, Summary
from spark_etl import orders
from spark_etl.config import SparkEtlSettings
from spark_etl.storage import Storage

REJECTS = "_rejects"  # inside the Parquet root: '_' hides it from Spark, Hive and pyarrow readers


@dataclass(frozen=True)
class OrdersRequest:
    """What to transform: a JSONL file or folder, the date, where the Parquet and the CSV go."""

    source: str
    day: date
    out: str
    csv_out: str


def _split(path: str) -> tuple[str, str]:
    """(parent, name) of a local path or URI."""
    parent, name = posixpath.split(path.rstrip("/"))
    return parent or ".", name


def input_files(spark: SparkSession, source: str) -> list[str]:
    """The .jsonl files of `source`: the file itself, or a folder's (its key index etc. ignored)."""
    parent, name = _split(source)
    if name.endswith((".jsonl", ".json")):
        if not Storage(spark, parent).exists(name):
            raise UserError(f"input not found: {source}")
        return [source]
    folder = Storage(spark, source)
    if not folder.exists(""):
        raise UserError(f"input not found: {source}")
    return [folder.url(p) for p in folder.glob("*.jsonl")]


def _counts(classified: DataFrame) -> tuple[Counter[str], Counter[str], int, list[int]]:
    """(records per outcome, rejects per reason, distinct ok ids, [min id, max id])."""
    by_outcome: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    for row in classified.groupBy("outcome", "reason").count().collect():
        by_outcome[row["outcome"]] += row["count"]
        if row["outcome"] == "rejected":
            by_reason[row["reason"]] += row["count"]
    ok = classified.where(F.col("outcome") == "ok")
    agg = ok.agg(F.countDistinct("id").alias("n"), F.min("id").alias("lo"), F.max("id").alias("hi"))
    first = agg.first()
    assert first is not None  # an aggregate always has one row
    ids = [int(first["lo"]), int(first["hi"])] if first["n"] else []
    return by_outcome, by_reason, int(first["n"]), ids


def _write_partition(frame: DataFrame, out: Storage, name: str, day: date, files: int) -> bool:
    """Replace <out>/<name>/date=D with the frame (dynamic overwrite); delete it when empty."""
    target = f"{name}/date={day.isoformat()}" if name else f"date={day.isoformat()}"
    if frame.isEmpty():
        out.delete(target)
        return False
    url = out.url(name) if name else out.root
    (
        frame.repartition(files, "date").sortWithinPartitions(orders.ORDER_COLUMNS[0])
        .write.mode("overwrite").option("partitionOverwriteMode", "dynamic")
        .partitionBy("date").parquet(url)
    )  # fmt: skip
    return True


def write_csv(spark: SparkSession, rows: DataFrame, csv_out: str) -> None:
    """The rows as ONE headered CSV at `csv_out`: written beside it, then renamed over it."""
    parent, name = _split(csv_out)
    folder = Storage(spark, parent)
    # Leftovers of runs killed mid-write: never read (hidden names), removed here.
    for stale in sorted({p.split("/")[0] for p in folder.glob(f".{name}.*.tmp/*")}):
        folder.delete(stale)
    staging = f".{name}.{uuid.uuid4().hex[:8]}.tmp"
    (
        rows.select(*orders.ORDER_COLUMNS).orderBy("id").coalesce(1)
        .write.mode("overwrite")
        .options(header="true", timestampFormat=orders.CSV_TIMESTAMP, emptyValue="")
        .csv(folder.url(staging))
    )  # fmt: skip
    parts = folder.glob(f"{staging}/part-*.csv")
    if len(parts) != 1:
        raise JobError(f"expected one CSV part in {folder.url(staging)}, found {len(parts)}")
    fault_point("orders.before_csv_rename")
    folder.move(parts[0], name)
    folder.delete(staging)


def _written(spark: SparkSession, req: OrdersRequest, kept: int) -> DataFrame:
    """The date's rows as written (read back from storage, so the CSV equals the Parquet)."""
    if not kept:
        return spark.createDataFrame([], orders.ORDERS_ROWS)
    partition = f"{req.out.rstrip('/')}/date={req.day.isoformat()}"
    return spark.read.schema(orders.ORDERS_ROWS).parquet(partition)


def _check(spark: SparkSession, req: OrdersRequest, kept: int) -> list[dict[str, object]]:
    """Read back what was written: the partition's rows and ids, the CSV's rows."""
    agg = (
        _written(spark, req, kept)
        .agg(F.count(F.lit(1)).alias("rows"), F.countDistinct("id").alias("ids"))
        .first()
    )
    assert agg is not None  # an aggregate always has one row
    rows, ids = int(agg["rows"]), int(agg["ids"])
    csv_rows = spark.read.options(header="true").csv(req.csv_out).count()
    return [
        {"check": "parquet.count", "ok": rows == kept, "found": rows, "expected": kept},
        {"check": "parquet.id_unique", "ok": ids == rows, "found": ids, "expected": rows},
        {"check": "csv.count", "ok": csv_rows == kept, "found": csv_rows, "expected": kept},
    ]


def run(spark: SparkSession, settings: SparkEtlSettings, req: OrdersRequest) -> Summary:
    """Transform one date of orders; the run contract's summary (in = out + rejected + skipped)."""
    files = input_files(spark, req.source)
    out = Storage(spark, req.out)
    classified = orders.classify(orders.read_orders(spark, files), req.day).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    try:
        by_outcome, by_reason, kept, ids = _counts(classified)
        rejected = by_outcome["rejected"]
        owned = by_outcome["ok"] + rejected
        summary = Summary(
            records_in=sum(by_outcome.values()),
            records_out=kept,
            records_rejected=rejected,
            records_skipped={
                "duplicate": by_outcome["ok"] - kept,
                "other_date": by_outcome["other_date"],
            },
            extra={
                "date": req.day.isoformat(),
                "files": len(files),
                "output": out.url(f"date={req.day.isoformat()}"),
                "csv": req.csv_out,
                "rejects": out.url(f"{REJECTS}/date={req.day.isoformat()}"),
                "rejected_by_reason": dict(sorted(by_reason.items())),
                "id_range": ids,
            },
        )
        rate = rejected / owned if owned else 0.0
        if rate > settings.max_reject_rate:
            raise JobFailed(
                f"{rate:.1%} of the orders were rejected (max_reject_rate "
                f"{settings.max_reject_rate:.1%}): nothing written",
                summary,
            )
        _write_partition(orders.latest(classified), out, "", req.day, settings.files_per_partition)
        fault_point("orders.after_parquet")
        _write_partition(orders.rejects(classified), out, REJECTS, req.day, 1)
    finally:
        classified.unpersist()
    write_csv(spark, _written(spark, req, kept), req.csv_out)
    checks = _check(spark, req, kept)
    summary.details["quality"] = checks
    failed = "; ".join(
        f"{c['check']}: found {c['found']}, expected {c['expected']}" for c in checks if not c["ok"]
    )
    if failed:
        raise JobFailed(f"quality checks failed: {failed}", summary)
    return summary
