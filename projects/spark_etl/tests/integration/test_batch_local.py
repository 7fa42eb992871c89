"""The batch job on local paths against DuckDB's independent result: counts, daily rows, reruns
of one date (also with no new data), incremental runs, the quarantine, files per partition."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from datetime import date
from pathlib import Path

import duckdb
import pytest
from pyspark.sql import SparkSession
from spark_etl import jobs
from spark_etl.config import SparkEtlSettings

from de_common.run import JobFailed

from .conftest import LAST, START, assert_matches, expected, parquet_daily

pytestmark = pytest.mark.integration


def settings_for(landing: Path, lake: Path, **extra: object) -> SparkEtlSettings:
    return SparkEtlSettings(source=str(landing), output=str(lake), **extra)  # type: ignore[arg-type]


def snapshot(lake: Path) -> dict[str, bytes]:
    """Every data file of the lake by path, with its bytes."""
    return {
        str(p.relative_to(lake)): p.read_bytes() for p in sorted(lake.glob("*/date=*/*.parquet"))
    }


def as_dict(summary: object) -> dict[str, object]:
    data = asdict(summary)  # type: ignore[call-overload]
    return {**data, **data.pop("extra")}


def test_a_run_equals_duckdb_and_keeps_the_file_count(
    spark: SparkSession, landing: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    summary = jobs.run_in(spark, settings_for(landing, lake, files_per_partition=2), START, LAST)
    want = expected(landing)
    assert_matches(as_dict(summary), want)
    assert parquet_daily(lake) == want.daily
    assert len(want.daily) > 100
    for partition in lake.glob("trips/date=*"):
        assert 1 <= len(list(partition.glob("*.parquet"))) <= 2
    quarantined = duckdb.sql(
        f"SELECT reason, count(*) FROM read_parquet('{lake}/quarantine/*/*.parquet') GROUP BY 1"
    ).fetchall()
    assert dict(quarantined) == want.reasons
    # A line that did not parse is kept verbatim, so it can be fixed and replayed.
    raw = duckdb.sql(
        f"SELECT record FROM read_parquet('{lake}/quarantine/*/*.parquet') "
        "WHERE reason = 'malformed' AND record = '###garbage###' LIMIT 1"
    ).fetchall()
    assert raw == [("###garbage###",)]


def test_rerunning_one_date_replaces_exactly_that_date(
    spark: SparkSession, landing: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    settings = settings_for(landing, lake)
    jobs.run_in(spark, settings, START, LAST)
    before = snapshot(lake)
    day = date(2026, 11, 3)

    again = jobs.run_in(spark, settings, day, day)

    after = snapshot(lake)
    mine = f"date={day.isoformat()}"
    assert {k: v for k, v in after.items() if mine not in k} == {
        k: v for k, v in before.items() if mine not in k
    }, "a rerun of one date touched another date"
    assert {k for k in after if mine in k} != {k for k in before if mine in k}  # rewritten
    assert parquet_daily(lake) == expected(landing).daily
    assert again.records_out == expected(landing, day, day).trips


def test_a_rerun_whose_new_data_is_empty_empties_the_date(
    spark: SparkSession, landing: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    jobs.run_in(spark, settings_for(landing, lake), START, LAST)
    day = "2026-11-04"
    assert (lake / "trips" / f"date={day}").exists()
    # The corrected landing zone has nothing for the 4th any more: every line of it is removed.
    fixed = tmp_path / "fixed"
    shutil.copytree(landing, fixed)
    for csv in fixed.glob("trips/dt=*/*.csv"):
        lines = csv.read_text().splitlines(keepends=True)
        keep = [line for line in lines if f",{day} " not in line]
        if csv.parent.name == f"dt={day}":
            keep = lines[:1]
        csv.write_text("".join(keep))
    before = snapshot(lake)

    summary = jobs.run_in(
        spark, settings_for(fixed, lake), date.fromisoformat(day), date.fromisoformat(day)
    )

    assert summary.records_out == 0 and summary.records_rejected == 0
    assert summary.extra["partitions_emptied"] == {
        "trips": [day],
        "daily": [day],
        "quarantine": [day],
    }
    for output in ("trips", "daily", "quarantine"):
        assert not (lake / output / f"date={day}").exists()
    after = snapshot(lake)
    assert after == {k: v for k, v in before.items() if f"date={day}" not in k}


def test_incremental_runs_pick_up_new_dates_and_their_late_records(
    spark: SparkSession, landing: Path, tmp_path: Path
) -> None:
    partial, lake = tmp_path / "landing", tmp_path / "lake"
    (partial / "trips").mkdir(parents=True)
    for name in ("zones.csv", "drivers.csv"):
        shutil.copy(landing / name, partial / name)
    folders = sorted((landing / "trips").iterdir())
    for folder in folders[:3]:
        shutil.copytree(folder, partial / "trips" / folder.name)
    settings = settings_for(partial, lake)

    first = jobs.run_in(spark, settings, None, None)
    for folder in folders[3:]:
        shutil.copytree(folder, partial / "trips" / folder.name)
    second = jobs.run_in(spark, settings, None, None)

    assert (first.extra["first_date"], first.extra["last_date"]) == ("2026-11-01", "2026-11-03")
    # The last two dates already written may still get late records: they are rebuilt too.
    assert (second.extra["first_date"], second.extra["last_date"]) == ("2026-11-02", "2026-11-06")
    assert parquet_daily(lake) == expected(landing).daily


def test_too_many_rejects_fail_before_anything_is_written(
    spark: SparkSession, landing: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    with pytest.raises(JobFailed, match="rejected") as failed:
        jobs.run_in(spark, settings_for(landing, lake, max_reject_rate=0.001), START, LAST)
    assert failed.value.summary.records_rejected == expected(landing).outcomes["rejected"]
    assert not lake.exists()
