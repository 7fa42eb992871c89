"""The SparkSession of a run, built from the settings: loopback, UI off, UTC, quiet logs."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from pyspark.sql import SparkSession

from de_common.errors import ServiceUnavailable
from spark_etl.config import SparkEtlSettings

# Versions that match pyspark 4.1.1: Scala 2.13 and the Hadoop 3.4.2 client the wheel bundles.
HADOOP_AWS = "org.apache.hadoop:hadoop-aws:3.4.2"
KAFKA_SQL = "org.apache.spark:spark-sql-kafka-0-10_2.13:4.1.1"
LOCAL_HOST = "127.0.0.1"


def under_spark_submit() -> bool:
    """True when spark-submit started this Python process (it then owns master and conf)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def _java_home() -> str | None:
    java = shutil.which("java")
    if java is None:
        return None
    # java -XshowSettings prints java.home; cheaper than guessing distribution layouts.
    out = subprocess.run(
        [java, "-XshowSettings:properties", "-version"], capture_output=True, text=True, check=False
    ).stderr
    for line in out.splitlines():
        if "java.home =" in line:
            return line.split("=", 1)[1].strip()
    return None


def _log4j_config() -> str:
    return str(Path(str(resources.files("spark_etl") / "log4j2.properties")))


def conf(settings: SparkEtlSettings, packages: list[str]) -> dict[str, str]:
    """The Spark configuration of a run; secrets only go to the JVM, never to logs."""
    values = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.extraJavaOptions": f"-Dlog4j.configurationFile=file:{_log4j_config()}",
    }
    if not under_spark_submit():
        values |= {
            "spark.driver.memory": settings.driver_memory,
            "spark.ui.enabled": "false",
        }
        if settings.master.startswith("local"):
            values |= {"spark.driver.host": LOCAL_HOST, "spark.driver.bindAddress": LOCAL_HOST}
    wanted = sorted({*packages, *settings.packages})
    if wanted:
        values["spark.jars.packages"] = ",".join(wanted)
    if settings.s3_endpoint:
        values |= {
            "spark.hadoop.fs.s3a.endpoint": settings.s3_endpoint,
            "spark.hadoop.fs.s3a.path.style.access": "true",
            "spark.hadoop.fs.s3a.connection.ssl.enabled": str(
                settings.s3_endpoint.startswith("https")
            ).lower(),
            "spark.hadoop.fs.s3a.endpoint.region": "us-east-1",
        }
    if settings.s3_access_key and settings.s3_secret_key:
        values |= {
            "spark.hadoop.fs.s3a.access.key": settings.s3_access_key.get_secret_value(),
            "spark.hadoop.fs.s3a.secret.key": settings.s3_secret_key.get_secret_value(),
            "spark.hadoop.fs.s3a.aws.credentials.provider": (
                "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
            ),
        }
    return values


def packages_for(*paths: str) -> list[str]:
    """The Maven packages the paths need: hadoop-aws for s3a://."""
    return [HADOOP_AWS] if any(p.startswith("s3a://") for p in paths) else []


def start(settings: SparkEtlSettings, app: str, packages: list[str]) -> SparkSession:
    """Start (or join, under spark-submit) the session of a run."""
    if not os.environ.get("JAVA_HOME"):
        home = _java_home()
        if home is None:
            raise ServiceUnavailable("spark", "java", "no Java 17+ on PATH and JAVA_HOME unset")
        os.environ["JAVA_HOME"] = home
    os.environ.setdefault("SPARK_LOCAL_IP", LOCAL_HOST)
    builder = SparkSession.builder.appName(app)
    if not under_spark_submit():
        builder = builder.master(settings.master)
    for key, value in conf(settings, packages).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM failed to start: py4j or RuntimeError, one line
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ServiceUnavailable("spark", settings.master, reason) from exc
    session.sparkContext.setLogLevel("WARN")
    # pyspark logs every failed query with its whole plan and JVM stack; the job's one error line
    # says the same, so keep those to the debugging level.
    logging.getLogger("DataFrameQueryContextLogger").setLevel(logging.CRITICAL)
    # py4j narrates every gateway connection at INFO (and one after the error line at exit).
    logging.getLogger("py4j").setLevel(logging.WARNING)
    return session
