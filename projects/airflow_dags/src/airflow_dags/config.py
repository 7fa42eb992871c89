"""Settings: defaults < TOML (--config) < .env < AIRFLOW_DAGS_* environment < CLI flags.

The DAG files read these at parse time (environment only), so every knob of a deployment is an
AIRFLOW_DAGS_* variable of the scheduler and the workers.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field, SecretStr

from de_common.config import Settings, settings_config

# projects/airflow_dags/src/airflow_dags/config.py -> the repository root (parents[4]).
REPO_ROOT = Path(__file__).resolve().parents[4]


class AirflowDagsSettings(Settings):
    """Every knob of the DAGs; each is also AIRFLOW_DAGS_<FIELD> in the environment."""

    model_config = settings_config(env_prefix="AIRFLOW_DAGS_")

    quarantine: Path = Field(
        default=Path("rejects.jsonl"),
        description="Where `stage` writes unreadable lines, with the reason.",
    )
    repo_root: Path = Field(
        default=REPO_ROOT, description="Repository root; project venvs default to <root>/.nox/<p>."
    )
    venvs: dict[str, str] = Field(
        default_factory=dict,
        description="Project -> its virtualenv, overriding <repo_root>/.nox/<project>.",
    )
    data_dir: Path = Field(
        default=Path("/tmp/airflow_dags-data"),  # noqa: S108 - a default local lake, overridable
        description="Root of the local lake: every task reads and writes <root>/<dataset>/date=.../.",
    )
    api_base_url: str = Field(
        default="http://127.0.0.1:8765",
        description="The orders API api_fetcher fetches (`api-fetcher demo-api` serves one).",
    )
    api_source: str = Field(default="shop_open", description="The api_fetcher source to fetch.")
    lake_url: str = Field(
        default="s3://lake/airflow_dags",
        description="Object-store root cloud_pipeline lands raw partitions under (raw/orders/date=D/).",
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="S3 endpoint (moto, MinIO); credentials from the AWS_* environment.",
    )
    database_url: SecretStr = Field(
        default=SecretStr("postgresql://postgres@127.0.0.1:25432/postgres"),
        description="PostgreSQL the load and quality-check tasks use.",
    )
    spark_master: str = Field(
        default="local[2]", description="Spark master of daily_batch's transform (spark_etl)."
    )
    orders_table: str = Field(default="orders", description="Table daily_batch loads.")
    postgres_pool: str = Field(
        default="postgres", description="Airflow pool of the PostgreSQL-heavy tasks."
    )
    postgres_pool_slots: int = Field(default=2, ge=1, description="Slots of that pool.")
    log_dir: Path = Field(
        default=Path("/tmp/airflow_dags-logs"),  # noqa: S108 - a default input folder
        description="Web-server logs log_rollup analyses, one file per hour: access-YYYYMMDDHH.log.",
    )
    start_date: date = Field(
        default=date(2024, 1, 1),
        description="First data interval of daily_batch (catchup from here).",
    )
    catchup: bool = Field(default=True, description="daily_batch runs every missed interval.")
    owner: str = Field(default="data-platform", description="Owner shown on every task.")
    retries: int = Field(default=3, ge=0, description="Retries of every task.")
    retry_delay_s: float = Field(default=30.0, gt=0, description="First wait before a retry.")
    max_retry_delay_s: float = Field(
        default=600.0, gt=0, description="Longest wait (the delay doubles each retry)."
    )
    task_timeout_s: float = Field(
        default=1800.0, gt=0, description="execution_timeout of every task."
    )
    # log_rollup: each hour's Parquet replaces its partition in HDFS + Hive (hdfs_hive load).
    hdfs_url: str = Field(
        default="http://127.0.0.1:29870", description="WebHDFS address log_rollup uploads to."
    )
    hive_url: str = Field(
        default="hive://127.0.0.1:20000/default",
        description="HiveServer2 (hive://HOST:PORT/DATABASE) log_rollup registers partitions in.",
    )
    hdfs_lake_root: str = Field(
        default="/lake", description="HDFS folder holding one folder per dataset."
    )
    hive_database: str = Field(default="lake", description="Hive database of the logs table.")
    logs_dataset: str = Field(
        default="access_logs",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Dataset (HDFS folder and Hive table) of the hourly log Parquet.",
    )
    # stream_health: monitoring's threshold checks (`monitoring check ...`), exit 1 over the limit.
    kafka_bootstrap: str = Field(
        default="127.0.0.1:29092", description="Kafka the stream_health lag check reads."
    )
    kafka_topic: str = Field(default="events", description="Topic whose lag stream_health checks.")
    max_kafka_lag: int = Field(
        default=10_000, ge=0, description="Lag above which stream_health fails."
    )
    kafka_group: str = Field(
        default="kafka_ingest", description="Consumer group whose lag stream_health checks."
    )
    rabbitmq_management_url: str = Field(
        default="http://127.0.0.1:25675",
        description="RabbitMQ management API whose parking lot stream_health checks.",
    )
    rabbitmq_vhost: str = Field(default="/", description="vhost of rabbitmq_worker's queues.")
    rabbitmq_user: str = Field(default="guest", description="RabbitMQ management API user.")
    # None, not "guest": monitoring falls back to guest itself, and a default secret would be
    # masked from every log line.
    rabbitmq_password: SecretStr | None = Field(
        default=None, description="RabbitMQ management API password (guest when unset)."
    )
    rabbitmq_prefix: str = Field(
        default="tasks",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="rabbitmq_worker's prefix: its parking lot is <prefix>.parked.",
    )
    max_parked: int = Field(
        default=0, ge=0, description="Parked messages above which stream_health fails."
    )

    def venv(self, project: str) -> Path:
        """The virtualenv a project's CLI runs in."""
        chosen = self.venvs.get(project)
        path = Path(chosen) if chosen else Path(".nox") / project
        return path if path.is_absolute() else self.repo_root / path
