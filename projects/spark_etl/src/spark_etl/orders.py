"""Orders (api_fetcher's JSONL) for one date as DataFrame functions: read, classify, keep latest.

Every record read gets exactly one outcome, so a run accounts for all of them: `ok` (the latest
version of an order, or a `duplicate` older version of it), `rejected` (quarantined with its
reason), or skipped as `other_date` (its updated_at falls on a date another run owns).
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    DateType,
    DecimalType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)
from pyspark.sql.window import Window

CORRUPT = "_corrupt_record"
SOURCE_FILE = "_source_file"
AMOUNT = DecimalType(12, 2)
ORDER_FIELDS = [
    StructField("id", LongType()),
    StructField("updated_at", TimestampType()),
    StructField("customer", StringType()),
    StructField("email", StringType()),
    StructField("amount", AMOUNT),
    StructField("status", StringType()),
    StructField("version", IntegerType()),
]
ORDER_COLUMNS = [f.name for f in ORDER_FIELDS]
# The JSON as read: the fields, then the raw line of a record that did not parse.
ORDERS_JSON = StructType([*ORDER_FIELDS, StructField(CORRUPT, StringType())])
ORDERS_ROWS = StructType(ORDER_FIELDS)
ORDERS_OUT = StructType([*ORDER_FIELDS, StructField("date", DateType())])
REJECTS_OUT = StructType(
    [
        StructField("reason", StringType()),
        StructField("id", LongType()),
        StructField("source_file", StringType()),
        StructField("record", StringType()),
        StructField("date", DateType()),
    ]
)
# What the source promises for every order (api_fetcher's schema for the orders endpoint).
REQUIRED = ["id", "updated_at", "email", "amount", "status"]
# The order rules are checked in: a record gets the first reason that applies.
REASONS = ("malformed", "missing_field", "out_of_range")
# ISO 8601 as api_fetcher keeps it (2024-01-01T00:00:00Z, optional fraction); the offset is
# required: a local time without one is malformed, not guessed.
JSON_TIMESTAMP = "yyyy-MM-dd'T'HH:mm:ss[.SSSSSS]XXX"
CSV_TIMESTAMP = "yyyy-MM-dd'T'HH:mm:ssXXX"


def read_orders(spark: SparkSession, files: list[str]) -> DataFrame:
    """The JSONL files with the explicit schema (nothing inferred) and each record's file."""
    if not files:
        return spark.createDataFrame([], ORDERS_JSON).withColumn(
            SOURCE_FILE, F.lit(None).cast("string")
        )
    frame = (
        spark.read.options(
            mode="PERMISSIVE", columnNameOfCorruptRecord=CORRUPT, timestampFormat=JSON_TIMESTAMP
        )
        .schema(ORDERS_JSON)
        .json(files)
    )
    return frame.withColumn(SOURCE_FILE, F.input_file_name())


def _reason() -> Column:
    missing = F.lit(False)
    for name in REQUIRED:
        missing = missing | F.col(name).isNull()
    return (
        F.when(F.col(CORRUPT).isNotNull(), "malformed")
        .when(missing, "missing_field")
        .when(F.col("amount") < 0, "out_of_range")
    )


def classify(orders: DataFrame, day: date) -> DataFrame:
    """Every record with its owning `date`, `outcome` and `reason`."""
    reason = _reason()
    # A record whose updated_at cannot be trusted belongs to the date being run (its quarantine).
    owner = F.when(reason.isNotNull(), F.lit(day)).otherwise(F.to_date("updated_at"))
    return (
        orders.withColumn("reason", reason)
        .withColumn("date", owner)
        .withColumn(
            "outcome",
            F.when(F.col("date") != F.lit(day), "other_date")
            .when(F.col("reason").isNotNull(), "rejected")
            .otherwise("ok"),
        )
    )


def latest(classified: DataFrame) -> DataFrame:
    """One row per id: its latest update (a total order on every column, so reruns agree)."""
    newest = Window.partitionBy("id").orderBy(
        F.col("updated_at").desc(),
        F.col("version").desc_nulls_last(),
        F.col(SOURCE_FILE).desc(),
        F.col("amount").desc(),
        F.col("status").desc(),
        F.col("email").desc(),
        F.col("customer").desc_nulls_last(),
    )
    ok = classified.where(F.col("outcome") == "ok")
    kept = ok.withColumn("_n", F.row_number().over(newest)).where(F.col("_n") == 1)
    return kept.select(*ORDER_COLUMNS, "date")


def rejects(classified: DataFrame) -> DataFrame:
    """The rejected records: the raw line, or the parsed fields as JSON, with the reason."""
    fields = F.to_json(F.struct(*[F.col(c) for c in ORDER_COLUMNS]))
    return classified.where(F.col("outcome") == "rejected").select(
        "reason",
        "id",
        F.col(SOURCE_FILE).alias("source_file"),
        F.coalesce(F.col(CORRUPT), fields).alias("record"),
        "date",
    )
