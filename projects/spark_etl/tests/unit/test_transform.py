"""The transformation on small hand-made fixtures, compared with assertDataFrameEqual."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual
from spark_etl import batch, session, transform
from spark_etl.config import SparkEtlSettings
from spark_etl.schemas import DRIVERS, TRIPS_OUT, ZONES
from spark_etl.storage import Storage
from spark_etl.window import DateWindow

HEADER = (
    "trip_id,event_ts,updated_at,pickup_zone,dropoff_zone,driver_id,distance_km,fare,payment_type"
)
T = "2026-11-02 10:00:00"
# (landing day, line, expected reason, expected owning date, expected outcome)
CASES = [
    ("2026-11-02", f"ok1,{T},{T},1,2,7,3.00,10.50, CASH ", None, "2026-11-02", "ok"),
    ("2026-11-02", "###garbage###", "malformed", "2026-11-02", "rejected"),
    ("2026-11-02", f"bad1,{T},{T},1,2,7,3.00,abc,card", "malformed", "2026-11-02", "rejected"),
    (
        "2026-11-02",
        f"bad2,2026-13-45 25:61:00,{T},1,2,7,3.00,9.00,card",
        "malformed",
        "2026-11-02",
        "rejected",
    ),
    ("2026-11-02", f",{T},{T},1,2,7,3.00,9.00,card", "missing_field", "2026-11-02", "rejected"),
    (
        "2026-11-02",
        f"skew,2026-11-03 01:00:00,{T},1,2,7,3.00,9.00,card",
        "clock_skew",
        "2026-11-02",
        "rejected",
    ),
    ("2026-11-02", f"neg,{T},{T},1,2,7,-1.00,9.00,card", "out_of_range", "2026-11-02", "rejected"),
    (
        "2026-11-02",
        f"big,{T},{T},1,2,7,3.00,1500.00,card",
        "out_of_range",
        "2026-11-02",
        "rejected",
    ),
    (
        "2026-11-02",
        f"zone,{T},{T},999,2,7,3.00,9.00,card",
        "unknown_zone",
        "2026-11-02",
        "rejected",
    ),
    (
        "2026-11-02",
        f"drv,{T},{T},1,2,99999,3.00,9.00,card",
        "unknown_driver",
        "2026-11-02",
        "rejected",
    ),
    # Landed two days late: still its event day's; three days late: too late.
    ("2026-11-04", f"late,{T},{T},1,2,7,3.00,9.00,N/A", None, "2026-11-02", "ok"),
    ("2026-11-05", f"tardy,{T},{T},1,2,7,3.00,9.00,card", "too_late", "2026-11-05", "other_date"),
    (
        "2026-11-02",
        "old,2026-10-28 10:00:00,2026-10-28 10:00:00,1,2,7,3.00,9.00,card",
        "too_late",
        "2026-11-02",
        "too_late",
    ),
    (
        "2026-11-03",
        f"other,2026-11-03 09:00:00,{T},1,2,7,3.00,9.00,card",
        None,
        "2026-11-03",
        "other_date",
    ),
]


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    spark = session.start(SparkEtlSettings(master="local[1]"), "spark_etl-unit", [])
    yield spark
    spark.stop()


def landing(root: Path, rows: list[tuple[str, str]]) -> Path:
    by_day: dict[str, list[str]] = {}
    for day, line in rows:
        by_day.setdefault(day, []).append(line)
    for day, lines in by_day.items():
        folder = root / "trips" / f"dt={day}"
        folder.mkdir(parents=True)
        (folder / "part-00000.csv").write_text("\n".join([HEADER, *lines]) + "\n")
    (root / "zones.csv").write_text("zone_id,zone_name,borough\n1,A,Queens\n2,B,Bronx\n")
    (root / "drivers.csv").write_text("driver_id,fleet\n7,yellow\n8,green\n")
    return root


def classified(spark: SparkSession, root: Path, window: DateWindow) -> DataFrame:
    folders = [str(p) for p in sorted((root / "trips").glob("dt=*"))]
    trips = transform.read_trips(spark, str(root), folders)
    zones = transform.read_dimension(spark, str(root / "zones.csv"), ZONES)
    drivers = transform.read_dimension(spark, str(root / "drivers.csv"), DRIVERS)
    return transform.classify(trips, zones, drivers, window)


def test_every_record_gets_one_outcome_and_the_first_reason_that_applies(
    spark: SparkSession, tmp_path: Path
) -> None:
    root = landing(tmp_path, [(c[0], c[1]) for c in CASES])
    window = DateWindow(date(2026, 11, 2), date(2026, 11, 2), lateness=2)

    got = classified(spark, root, window).selectExpr(
        "coalesce(_corrupt_record, trip_id) AS key", "reason", "date", "outcome"
    )

    # A malformed line is keyed by its raw text, which the quarantine keeps.
    want = spark.createDataFrame(
        [
            (
                c[1] if c[2] == "malformed" else c[1].split(",")[0] or None,
                c[2],
                date.fromisoformat(c[3]),
                c[4],
            )
            for c in CASES
        ],
        "key string, reason string, date date, outcome string",
    )
    assertDataFrameEqual(got, want)


def test_deduplication_keeps_the_latest_version_and_normalises_payment(
    spark: SparkSession, tmp_path: Path
) -> None:
    later = "2026-11-02 11:00:00"
    rows = [
        ("2026-11-02", f"t1,{T},{T},1,2,7,3.00,10.00,card"),
        ("2026-11-03", f"t1,{T},{later},1,2,7,3.00,12.00, CASH "),  # a later correction
        ("2026-11-02", f"t2,{T},{T},2,1,8,1.00,5.00,NULL"),
        ("2026-11-02", f"t2,{T},{T},2,1,8,1.00,5.00,NULL"),  # an exact resend
    ]
    root = landing(tmp_path, rows)
    window = DateWindow(date(2026, 11, 2), date(2026, 11, 2), lateness=2)

    got = transform.deduplicate(classified(spark, root, window))

    ts = datetime.fromisoformat(T)
    want = spark.createDataFrame(
        [
            (
                "t1",
                ts,
                datetime.fromisoformat(later),
                1,
                "Queens",
                2,
                7,
                "yellow",
                Decimal("3.00"),
                Decimal("12.00"),
                "cash",
                date(2026, 11, 3),
                date(2026, 11, 2),
            ),
            (
                "t2",
                ts,
                ts,
                2,
                "Bronx",
                1,
                8,
                "green",
                Decimal("1.00"),
                Decimal("5.00"),
                "unknown",
                date(2026, 11, 2),
                date(2026, 11, 2),
            ),
        ],
        TRIPS_OUT,
    )
    assertDataFrameEqual(got, want)


def test_daily_aggregates_rank_revenue_within_each_day(spark: SparkSession) -> None:
    ts = datetime.fromisoformat(T)
    day, landed_late = date(2026, 11, 2), date(2026, 11, 3)

    def trip(
        n: int, borough: str, fleet: str, driver: int, fare: str, landed: date
    ) -> tuple[object, ...]:
        return (
            f"t{n}",
            ts,
            ts,
            1,
            borough,
            2,
            driver,
            fleet,
            Decimal("2.50"),
            Decimal(fare),
            "card",
            landed,
            day,
        )

    trips = spark.createDataFrame(
        [
            trip(1, "Queens", "yellow", 7, "10.00", day),
            trip(2, "Queens", "yellow", 7, "5.25", landed_late),
            trip(3, "Queens", "yellow", 8, "1.00", day),
            trip(4, "Bronx", "green", 9, "40.00", day),
        ],
        TRIPS_OUT,
    )

    got = transform.daily(trips)

    want = spark.createDataFrame(
        [
            ("Queens", "yellow", 3, Decimal("16.25"), Decimal("7.50"), 2, 1, 2, day),
            ("Bronx", "green", 1, Decimal("40.00"), Decimal("2.50"), 1, 0, 1, day),
        ],
        got.schema,
    )
    assertDataFrameEqual(got, want)


def test_an_incremental_window_starts_within_the_lateness_of_the_newest_output(
    spark: SparkSession, tmp_path: Path
) -> None:
    for day in ("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"):
        (tmp_path / "landing" / "trips" / f"dt={day}").mkdir(parents=True)
    for day in ("2026-11-01", "2026-11-02"):
        (tmp_path / "lake" / "trips" / f"date={day}").mkdir(parents=True)
    source = Storage(spark, str(tmp_path / "landing"))
    out = Storage(spark, str(tmp_path / "lake"))
    settings = SparkEtlSettings(lateness_days=1)

    window = batch.resolve_window(source, out, settings, None, None)

    assert window == DateWindow(date(2026, 11, 2), date(2026, 11, 4), lateness=1)
    empty = Storage(spark, str(tmp_path / "nothing"))
    assert batch.resolve_window(source, empty, settings, None, None) == DateWindow(
        date(2026, 11, 1), date(2026, 11, 4), lateness=1
    )
