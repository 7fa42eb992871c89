"""Explicit schemas of every input and output: nothing is inferred."""

from __future__ import annotations

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

CORRUPT = "_corrupt_record"
TIMESTAMP_FORMAT = "yyyy-MM-dd HH:mm:ss"
MONEY = DecimalType(10, 2)
KM = DecimalType(8, 2)
# Sums of MONEY/KM: exact, never floating point, so any engine computes the same figures.
TOTAL = DecimalType(20, 2)

TRIP_FIELDS = [
    StructField("trip_id", StringType()),
    StructField("event_ts", TimestampType()),
    StructField("updated_at", TimestampType()),
    StructField("pickup_zone", IntegerType()),
    StructField("dropoff_zone", IntegerType()),
    StructField("driver_id", IntegerType()),
    StructField("distance_km", KM),
    StructField("fare", MONEY),
    StructField("payment_type", StringType()),
]
TRIP_COLUMNS = [f.name for f in TRIP_FIELDS]
# The CSV as read: the fields, then the raw line of a record that did not parse.
TRIPS_CSV = StructType([*TRIP_FIELDS, StructField(CORRUPT, StringType())])

ZONES = StructType(
    [
        StructField("zone_id", IntegerType(), nullable=False),
        StructField("zone_name", StringType()),
        StructField("borough", StringType()),
    ]
)
DRIVERS = StructType(
    [
        StructField("driver_id", IntegerType(), nullable=False),
        StructField("fleet", StringType()),
    ]
)

TRIPS_OUT = StructType(
    [
        StructField("trip_id", StringType()),
        StructField("event_ts", TimestampType()),
        StructField("updated_at", TimestampType()),
        StructField("pickup_zone", IntegerType()),
        StructField("pickup_borough", StringType()),
        StructField("dropoff_zone", IntegerType()),
        StructField("driver_id", IntegerType()),
        StructField("fleet", StringType()),
        StructField("distance_km", KM),
        StructField("fare", MONEY),
        StructField("payment_type", StringType()),
        StructField("landed_on", DateType()),
        StructField("date", DateType()),
    ]
)
DAILY_OUT = StructType(
    [
        StructField("pickup_borough", StringType()),
        StructField("fleet", StringType()),
        StructField("trips", LongType()),
        StructField("revenue", TOTAL),
        StructField("distance_km", TOTAL),
        StructField("drivers", LongType()),
        StructField("late_trips", LongType()),
        StructField("revenue_rank", IntegerType()),
        StructField("date", DateType()),
    ]
)
QUARANTINE_OUT = StructType(
    [
        StructField("reason", StringType()),
        StructField("trip_id", StringType()),
        StructField("landed_on", DateType()),
        StructField("record", StringType()),
        StructField("date", DateType()),
    ]
)
