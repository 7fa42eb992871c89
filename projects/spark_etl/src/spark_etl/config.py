"""Settings: defaults < TOML (--config) < .env < SPARK_ETL_* environment < CLI flags."""

from __future__ import annotations

from pydantic import Field, SecretStr

from de_common.config import Settings, settings_config


class SparkEtlSettings(Settings):
    """Every knob of a run; each is also SPARK_ETL_<FIELD> in the environment."""

    model_config = settings_config(env_prefix="SPARK_ETL_")

    source: str = Field(
        default="landing",
        description="Landing root: trips/dt=YYYY-MM-DD/*.csv, zones.csv, drivers.csv "
        "(local path, hdfs:// or s3a://).",
    )
    output: str = Field(
        default="lake",
        description="Output root: trips/, daily/ and quarantine/, Parquet partitioned by date.",
    )
    master: str = Field(
        default="local[*]",
        description="Spark master; ignored under spark-submit, whose --master wins.",
    )
    driver_memory: str = Field(default="1g", description="spark.driver.memory (local mode).")
    shuffle_partitions: int = Field(
        default=4, ge=1, description="spark.sql.shuffle.partitions (AQE coalesces further)."
    )
    files_per_partition: int = Field(
        default=1, ge=1, le=64, description="Parquet files written per date partition, at most."
    )
    lateness_days: int = Field(
        default=2,
        ge=0,
        le=30,
        description="Records may land this many days after their event date; later ones are "
        "skipped as too_late. A run of date D reads landing folders D..D+lateness.",
    )
    max_reject_rate: float = Field(
        default=0.2,
        ge=0.0,
        le=1.0,
        description="Fail the run when more than this share of its records is quarantined.",
    )
    packages: list[str] = Field(
        default_factory=list,
        description="Extra Maven coordinates for spark.jars.packages (hadoop-aws and "
        "spark-sql-kafka are added when an s3a:// path or the stream command needs them).",
    )
    s3_endpoint: str | None = Field(
        default=None, description="S3 endpoint for s3a:// paths (unset: AWS itself)."
    )
    s3_access_key: SecretStr | None = Field(default=None, description="S3 access key id.")
    s3_secret_key: SecretStr | None = Field(default=None, description="S3 secret access key.")
    kafka_bootstrap: str = Field(
        default="127.0.0.1:29092", description="Kafka bootstrap servers of the stream command."
    )
    kafka_topic: str = Field(default="trips", description="Topic of CSV trip lines to stream.")
    checkpoint: str = Field(
        default="checkpoints/stream",
        description="Structured Streaming checkpoint folder (offsets, state, commits).",
    )
    max_offsets_per_trigger: int = Field(
        default=100_000, ge=1, description="Kafka records per micro-batch, at most."
    )
