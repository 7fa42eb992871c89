"""Data-quality checks on what a run wrote (read back from storage): counts, nulls, keys, ranges."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_etl.transform import MAX_DISTANCE_KM, MAX_FARE, REQUIRED


@dataclass(frozen=True)
class Check:
    """One rule over the written data: what was found against what was expected."""

    name: str
    found: object
    expected: object

    @property
    def ok(self) -> bool:
        """Whether the rule holds."""
        return self.found == self.expected


@dataclass(frozen=True)
class Expected:
    """What the run's own counts say the outputs must hold."""

    trips: int
    rejected: int


def check(trips: DataFrame, daily: DataFrame, rejected: DataFrame, want: Expected) -> list[Check]:
    """Every check; each output is scanned once with one aggregate (nothing else reaches the driver)."""
    null_any = F.lit(False)
    for name in REQUIRED:
        null_any = null_any | F.col(name).isNull()
    bad_range = (
        (F.col("fare") < 0)
        | (F.col("fare") > MAX_FARE)
        | (F.col("distance_km") < 0)
        | (F.col("distance_km") > MAX_DISTANCE_KM)
    )
    t = trips.agg(
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct("trip_id").alias("ids"),
        F.count(F.when(null_any, 1)).alias("nulls"),
        F.count(F.when(bad_range, 1)).alias("bad_range"),
        F.count(F.when(F.to_date("event_ts") != F.col("date"), 1)).alias("wrong_date"),
        F.count(F.when(F.col("pickup_borough").isNull() | F.col("fleet").isNull(), 1)).alias(
            "unjoined"
        ),
        F.coalesce(F.sum("fare"), F.lit(0)).alias("revenue"),
    ).first()
    d = daily.agg(
        F.coalesce(F.sum("trips"), F.lit(0)).alias("trips"),
        F.coalesce(F.sum("revenue"), F.lit(0)).alias("revenue"),
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct("date", "pickup_borough", "fleet").alias("keys"),
    ).first()
    q = rejected.agg(
        F.count(F.lit(1)).alias("rows"),
        F.count(F.when(F.col("reason").isNull(), 1)).alias("no_reason"),
    ).first()
    assert t is not None and d is not None and q is not None  # an aggregate always has one row
    return [
        Check("trips.count", t["rows"], want.trips),
        Check("trips.trip_id_unique", t["ids"], t["rows"]),
        Check("trips.required_not_null", t["nulls"], 0),
        Check("trips.fare_and_distance_in_range", t["bad_range"], 0),
        Check("trips.partition_matches_event_date", t["wrong_date"], 0),
        Check("trips.dimensions_joined", t["unjoined"], 0),
        Check("daily.trips_sum", d["trips"], t["rows"]),
        Check("daily.revenue_sum", d["revenue"], t["revenue"]),
        Check("daily.keys_unique", d["keys"], d["rows"]),
        Check("quarantine.count", q["rows"], want.rejected),
        Check("quarantine.reason_present", q["no_reason"], 0),
    ]


def report(checks: list[Check]) -> str:
    """A readable one-line-per-failure report (empty when everything holds)."""
    return "; ".join(
        f"{c.name}: found {c.found}, expected {c.expected}" for c in checks if not c.ok
    )
