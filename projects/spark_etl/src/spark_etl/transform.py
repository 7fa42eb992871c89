"""The transformation as DataFrame functions: classify, deduplicate, enrich, aggregate daily.

Every landed record gets exactly one outcome, so the run can account for all of them:
`ok` (a clean trip, or a `duplicate` of one), `rejected` (quarantined with its reason), or skipped
as `other_date` (another run's date owns it) or `too_late` (landed after the lateness allowance).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from spark_etl.schemas import CORRUPT, TIMESTAMP_FORMAT, TOTAL, TRIP_COLUMNS, TRIPS_CSV
from spark_etl.window import DateWindow

# Texts sources write for "no value"; all of them become `unknown`.
NULL_LIKE = ["", "null", "none", "n/a", "na", "-", "nan"]
MAX_FARE = 1000
MAX_DISTANCE_KM = 500
REQUIRED = [
    "trip_id",
    "event_ts",
    "updated_at",
    "pickup_zone",
    "dropoff_zone",
    "driver_id",
    "distance_km",
    "fare",
]
# The order rules are checked in: a record gets the first reason that applies.
REASONS = (
    "malformed",
    "missing_field",
    "clock_skew",
    "out_of_range",
    "unknown_zone",
    "unknown_driver",
)
CSV_OPTIONS = {
    "header": "true",
    "mode": "PERMISSIVE",
    "columnNameOfCorruptRecord": CORRUPT,
    "timestampFormat": TIMESTAMP_FORMAT,
    "nullValue": "",
    "emptyValue": "",
}


def read_trips(spark: SparkSession, base: str, folders: list[str]) -> DataFrame:
    """The landed CSV of `folders` (each base/trips/dt=...), with `landed_on` from the folder."""
    # With column pruning on, a short line whose missing columns no query reads is not flagged
    # malformed: what counts as corrupt would depend on the columns used downstream.
    spark.conf.set("spark.sql.csv.parser.columnPruning.enabled", "false")
    if not folders:
        empty = spark.createDataFrame([], TRIPS_CSV)
        return empty.withColumn("landed_on", F.lit(None).cast("date"))
    frame = (
        spark.read.options(**CSV_OPTIONS, basePath=f"{base}/trips").schema(TRIPS_CSV).csv(folders)
    )
    return frame.withColumnRenamed("dt", "landed_on").withColumn(
        "landed_on", F.col("landed_on").cast("date")
    )


def read_dimension(spark: SparkSession, path: str, schema: object) -> DataFrame:
    """A small dimension table (FAILFAST: a bad dimension row stops the run, it is not data)."""
    return spark.read.options(header="true", mode="FAILFAST").schema(schema).csv(path)  # type: ignore[arg-type]


def _reason(lateness: int) -> Column:
    row = F.col
    missing = F.lit(False)
    for name in REQUIRED:
        missing = missing | row(name).isNull()
    event_date = F.to_date(row("event_ts"))
    out_of_range = (
        (row("fare") < 0)
        | (row("fare") > MAX_FARE)
        | (row("distance_km") < 0)
        | (row("distance_km") > MAX_DISTANCE_KM)
    )
    too_late = event_date < F.date_sub(row("landed_on"), lateness)
    return (
        F.when(row(CORRUPT).isNotNull(), "malformed")
        .when(missing, "missing_field")
        .when(event_date > row("landed_on"), "clock_skew")
        .when(too_late, "too_late")
        .when(out_of_range, "out_of_range")
        .when(row("pickup_borough").isNull(), "unknown_zone")
        .when(row("fleet").isNull(), "unknown_driver")
    )


def classify(
    trips: DataFrame, zones: DataFrame, drivers: DataFrame, window: DateWindow
) -> DataFrame:
    """Every landed record with its owning `date`, `outcome` and `reason` (broadcast joins)."""
    zone_dim = zones.select(
        F.col("zone_id").alias("pickup_zone"), F.col("borough").alias("pickup_borough")
    )
    enriched = trips.join(F.broadcast(zone_dim), "pickup_zone", "left").join(
        F.broadcast(drivers.select("driver_id", "fleet")), "driver_id", "left"
    )
    reason = _reason(window.lateness)
    # A record whose event date cannot be trusted belongs to the day it landed.
    by_landing = F.col("reason").isin("malformed", "missing_field", "clock_skew", "too_late")
    owned = F.col("date").between(F.lit(window.first), F.lit(window.last))
    return (
        enriched.withColumn("reason", reason)
        .withColumn("date", F.when(by_landing, F.col("landed_on")).otherwise(F.to_date("event_ts")))
        .withColumn(
            "outcome",
            F.when(~owned, "other_date")
            .when(F.col("reason") == "too_late", "too_late")
            .when(F.col("reason").isNotNull(), "rejected")
            .otherwise("ok"),
        )
        .withColumn("payment_type", _payment(F.col("payment_type")))
    )


def _payment(raw: Column) -> Column:
    text = F.lower(F.trim(raw))
    return F.when(raw.isNull() | text.isin(NULL_LIKE), "unknown").otherwise(text)


def deduplicate(classified: DataFrame) -> DataFrame:
    """The clean trips: one row per trip_id, its latest version (a total order, so reruns agree)."""
    latest = Window.partitionBy("trip_id").orderBy(
        F.col("updated_at").desc(),
        F.col("fare").desc(),
        F.col("distance_km").desc(),
        F.col("landed_on").desc(),
        F.col("payment_type").desc(),
    )
    ok = classified.where(F.col("outcome") == "ok")
    kept = ok.withColumn("_n", F.row_number().over(latest)).where(F.col("_n") == 1)
    return kept.select(
        "trip_id",
        "event_ts",
        "updated_at",
        "pickup_zone",
        "pickup_borough",
        "dropoff_zone",
        "driver_id",
        "fleet",
        "distance_km",
        "fare",
        "payment_type",
        "landed_on",
        "date",
    )


def daily(trips: DataFrame) -> DataFrame:
    """Per date, borough and fleet: trips, revenue, distance, drivers, late trips, revenue rank."""
    totals = trips.groupBy("date", "pickup_borough", "fleet").agg(
        F.count(F.lit(1)).alias("trips"),
        F.sum("fare").cast(TOTAL).alias("revenue"),
        F.sum("distance_km").cast(TOTAL).alias("distance_km"),
        F.countDistinct("driver_id").alias("drivers"),
        F.count(F.when(F.col("landed_on") > F.col("date"), 1)).alias("late_trips"),
    )
    rank = Window.partitionBy("date").orderBy(F.col("revenue").desc())
    return totals.withColumn("revenue_rank", F.rank().over(rank)).select(
        "pickup_borough",
        "fleet",
        "trips",
        "revenue",
        "distance_km",
        "drivers",
        "late_trips",
        "revenue_rank",
        "date",
    )


def quarantine(classified: DataFrame) -> DataFrame:
    """The rejected records of the run's dates, the raw line or the parsed fields as JSON."""
    fields = F.to_json(F.struct(*[F.col(c) for c in TRIP_COLUMNS]))
    record = F.coalesce(F.col(CORRUPT), fields)
    return classified.where(F.col("outcome") == "rejected").select(
        "reason", "trip_id", "landed_on", record.alias("record"), "date"
    )
