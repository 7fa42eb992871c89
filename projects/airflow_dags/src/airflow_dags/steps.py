"""The CLI call of every project step, for one data interval: pure functions, no Airflow."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from airflow_dags.config import AirflowDagsSettings
from airflow_dags.interval import Interval
from airflow_dags.runner import Step


def raw_orders_dir(settings: AirflowDagsSettings) -> Path:
    """api_fetcher's jsonl sink root; it writes <root>/<source>/orders/date=YYYY-MM-DD/."""
    return settings.data_dir / "raw"


def orders_partition(settings: AirflowDagsSettings, interval: Interval) -> Path:
    """The raw orders of one interval."""
    return raw_orders_dir(settings) / settings.api_source / "orders" / f"date={interval.date}"


def orders_csv(settings: AirflowDagsSettings, interval: Interval) -> Path:
    """The transformed orders of one interval, as the CSV csv_to_postgres loads."""
    return settings.data_dir / "staged" / "orders" / f"date={interval.date}" / "orders.csv"


def orders_parquet(settings: AirflowDagsSettings) -> Path:
    """The curated orders table: Parquet partitioned by date=YYYY-MM-DD (spark_etl writes it)."""
    return settings.data_dir / "curated" / "orders"


def transform_orders(settings: AirflowDagsSettings, interval: Interval) -> Step:
    """spark_etl transform of the raw partition: the latest update per order -> the date's Parquet
    partition (dynamic overwrite) and the CSV the load reads; a rerun replaces both."""
    args = (
        "transform", str(orders_partition(settings, interval)),
        "--date", interval.date,
        "--out", str(orders_parquet(settings)),
        "--csv-out", str(orders_csv(settings, interval)),
    )  # fmt: skip
    return Step("spark_etl", args, {"SPARK_ETL_MASTER": settings.spark_master})


def sources_file(settings: AirflowDagsSettings) -> Path:
    """The bundled orders source with the configured API address, written where the fetch reads it."""
    template = resources.files("airflow_dags").joinpath("data/orders_source.yaml").read_text()
    path = settings.data_dir / "config" / "orders_source.yaml"
    text = template.replace("__BASE_URL__", settings.api_base_url.rstrip("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def fetch_orders(settings: AirflowDagsSettings, interval: Interval) -> Step:
    """api_fetcher backfill of exactly [start, end): the cursor never moves, so reruns are free."""
    state = settings.data_dir / "state" / "api_fetcher"
    args = (
        "backfill", settings.api_source,
        "--from", interval.start_iso, "--to", interval.end_iso,
        "--sources", str(sources_file(settings)),
        "--sink", "jsonl",
        "--output-dir", str(raw_orders_dir(settings)),
        "--state-dir", str(state),
        "--quarantine-dir", str(settings.data_dir / "quarantine" / "api_fetcher"),
    )  # fmt: skip
    return Step("api_fetcher", args)


def raw_prefix(interval: Interval) -> str:
    """The interval's key prefix under the lake root."""
    return f"raw/orders/date={interval.date}"


def land_orders(settings: AirflowDagsSettings, interval: Interval) -> Step:
    """cloud_pipeline upload of the raw partition: the same files again overwrite the same keys."""
    args: tuple[str, ...] = (
        "upload", str(orders_partition(settings, interval)),
        "--prefix", raw_prefix(interval),
        "--lake-url", settings.lake_url,
    )  # fmt: skip
    if settings.s3_endpoint_url:
        args += ("--endpoint-url", settings.s3_endpoint_url)
    return Step("cloud_pipeline", args)


def load_orders(settings: AirflowDagsSettings, csv_path: Path) -> Step:
    """csv_to_postgres upsert on the key: a rerun of a date rewrites the same rows, nothing more."""
    args = (
        "load", str(csv_path),
        "--table", settings.orders_table,
        "--mode", "upsert",
        "--primary-key", "id",
        "--rejects-csv", str(csv_path.with_name("rejects.csv")),
    )  # fmt: skip
    env = {"CSV_TO_POSTGRES_DATABASE_URL": settings.database_url.get_secret_value()}
    return Step("csv_to_postgres", args, env)


def logs_partition(settings: AirflowDagsSettings, interval: Interval) -> Path:
    """log_rollup's Parquet of one hour (log_analyzer writes date=YYYY-MM-DD/ inside)."""
    return settings.data_dir / "logs" / f"hour={interval.hour}"


def analyze_logs(settings: AirflowDagsSettings, interval: Interval, out: Path) -> Step:
    """log_analyzer over the log folder, filtered to [start, end), Parquet into `out`."""
    args = (
        "analyze", str(settings.log_dir),
        "--since", interval.start_iso, "--until", interval.end_iso,
        "--parquet", str(out / "parquet"),
        "--html", str(out / "report.html"),
        "--rejects-file", str(out / "rejects.jsonl"),
    )  # fmt: skip
    return Step("log_analyzer", args)


def load_logs_hour(settings: AirflowDagsSettings, interval: Interval, parquet: Path) -> Step:
    """hdfs_hive load: the hour's Parquet into a fresh HDFS folder, the Hive partition moved there."""
    args = (
        "load", str(parquet),
        "--dataset", settings.logs_dataset,
        "--partition", interval.hive_partition,
        "--quarantine", str(settings.data_dir / "quarantine" / "hdfs_hive" / f"{interval.hour}.jsonl"),
    )  # fmt: skip
    env = {
        "HDFS_HIVE_HDFS_URL": settings.hdfs_url,
        "HDFS_HIVE_HIVE_URL": settings.hive_url,
        "HDFS_HIVE_LAKE_ROOT": settings.hdfs_lake_root,
        "HDFS_HIVE_DATABASE": settings.hive_database,
    }
    return Step("hdfs_hive", args, env)


def kafka_lag(settings: AirflowDagsSettings) -> Step:
    """monitoring's lag threshold check: exit 1 (a failed task, the callback alerts) when over."""
    args = (
        "check", "kafka-lag",
        "--group", settings.kafka_group, "--topic", settings.kafka_topic,
        "--max-lag", str(settings.max_kafka_lag),
    )  # fmt: skip
    return Step("monitoring", args, {"MONITORING_KAFKA_BOOTSTRAP": settings.kafka_bootstrap})


def parking_lot_queue(settings: AirflowDagsSettings) -> str:
    """rabbitmq_worker's parking lot: where exhausted and invalid tasks wait for a human."""
    return f"{settings.rabbitmq_prefix}.parked"


def parking_lot(settings: AirflowDagsSettings) -> Step:
    """monitoring's parking-lot check: more parked messages than max_parked fails the task."""
    args = (
        "check", "parking-lot",
        "--queue", parking_lot_queue(settings), "--max", str(settings.max_parked),
    )  # fmt: skip
    env = {
        "MONITORING_RABBITMQ_MANAGEMENT_URL": settings.rabbitmq_management_url,
        "MONITORING_RABBITMQ_VHOST": settings.rabbitmq_vhost,
        "MONITORING_RABBITMQ_USER": settings.rabbitmq_user,
    }
    if settings.rabbitmq_password is not None:
        # Through the environment only: monitoring takes no password flag (argv is visible).
        env["MONITORING_RABBITMQ_PASSWORD"] = settings.rabbitmq_password.get_secret_value()
    return Step("monitoring", args, env)
