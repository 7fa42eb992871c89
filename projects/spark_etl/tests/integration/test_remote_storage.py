"""The same job with its output on the launcher's HDFS (hdfs://) and its input and output on the
S3 endpoint (s3a://, hadoop-aws from Maven Central), compared with DuckDB's result."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession
from spark_etl import jobs, session
from spark_etl.config import SparkEtlSettings

from de_services.catalog.hdfs import rpc_url
from de_services.testing import s3_client

from .conftest import DAILY_COLUMNS, LAST, START, assert_matches, expected
from .test_batch_local import as_dict

pytestmark = pytest.mark.integration
KEY, SECRET = "testing", "testing-secret"


@pytest.fixture(scope="module")
def remote_spark(s3_endpoint: str) -> Iterator[SparkSession]:
    """A session with hadoop-aws resolved from Maven Central and s3a pointed at the endpoint."""
    settings = SparkEtlSettings(
        master="local[2]",
        s3_endpoint=s3_endpoint,
        s3_access_key=KEY,  # type: ignore[arg-type]
        s3_secret_key=SECRET,  # type: ignore[arg-type]
    )
    spark = session.start(settings, "spark_etl-remote", [session.HADOOP_AWS])
    yield spark
    spark.stop()


def daily_rows(spark: SparkSession, lake: str) -> list[tuple[Any, ...]]:
    frame = spark.read.parquet(f"{lake}/daily").selectExpr(*DAILY_COLUMNS.split(", "))
    return sorted(tuple(row) for row in frame.collect())


def test_output_on_hdfs(remote_spark: SparkSession, landing: Path, hdfs_dir: str) -> None:
    lake = f"{rpc_url()}{hdfs_dir}/lake"
    settings = SparkEtlSettings(source=str(landing), output=lake)

    summary = jobs.run_in(remote_spark, settings, START, LAST)
    again = jobs.run_in(remote_spark, settings, START, START)  # a rerun of one date on HDFS

    want = expected(landing)
    assert_matches(as_dict(summary), want)
    assert again.records_out == expected(landing, START, START).trips
    assert daily_rows(remote_spark, lake) == sorted(want.daily)


def test_input_and_output_on_s3(
    remote_spark: SparkSession, landing: Path, s3_bucket: str, s3_endpoint: str
) -> None:
    client = s3_client(s3_endpoint)
    for path in sorted(landing.rglob("*.csv")):
        client.upload_file(str(path), s3_bucket, f"landing/{path.relative_to(landing)}")
    source, lake = f"s3a://{s3_bucket}/landing", f"s3a://{s3_bucket}/lake"
    settings = SparkEtlSettings(source=source, output=lake)

    summary = jobs.run_in(remote_spark, settings, START, LAST)

    want = expected(landing)
    assert_matches(as_dict(summary), want)
    assert daily_rows(remote_spark, lake) == sorted(want.daily)
    keys = [
        o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket, Prefix="lake/trips/")["Contents"]
    ]
    assert {k.split("/")[2] for k in keys if k.endswith(".parquet")} == {
        f"date={d}"
        for d in (
            "2026-11-01",
            "2026-11-02",
            "2026-11-03",
            "2026-11-04",
            "2026-11-05",
            "2026-11-06",
        )
    }
