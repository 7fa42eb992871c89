"""daily_batch: one day of orders fetched, landed in S3, transformed by Spark, loaded into
PostgreSQL, checked, measured.

Each task touches only its data interval's partition (date=YYYY-MM-DD; the rows dated inside
the interval), so a rerun of a date replaces that date's results and catchup/backfill work.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from airflow.sdk import CronDataIntervalTimetable, dag, task

from airflow_dags import steps
from airflow_dags.assets import ORDERS_TABLE
from airflow_dags.config import AirflowDagsSettings
from airflow_dags.dag_defaults import default_args
from airflow_dags.interval import Interval

# Read at parse time for the DAG's shape only; tasks read the settings again when they run.
SETTINGS = AirflowDagsSettings()


def _interval(start: datetime | None, end: datetime | None) -> Interval:
    assert start is not None and end is not None, "runs only inside a DAG run"
    return Interval.of(start, end)


@dag(
    dag_id="daily_batch",
    # Data intervals (not Airflow 3's default trigger times): each run owns [start, end).
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime.combine(SETTINGS.start_date, time(), tzinfo=UTC),
    catchup=SETTINGS.catchup,
    max_active_runs=2,
    default_args=default_args(SETTINGS),
    tags=["batch", "orders", "postgres"],
    doc_md=__doc__,
)
def daily_batch() -> None:
    @task
    def fetch(
        data_interval_start: datetime | None = None, data_interval_end: datetime | None = None
    ) -> dict[str, Any]:
        """api_fetcher: the orders updated inside the interval -> raw/<source>/orders/date=D/."""
        from airflow_dags.runner import run_step

        settings = AirflowDagsSettings()
        interval = _interval(data_interval_start, data_interval_end)
        return run_step(steps.fetch_orders(settings, interval), settings.venv("api_fetcher"))

    @task
    def land(
        fetched: dict[str, Any],
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
    ) -> dict[str, Any]:
        """cloud_pipeline: the raw partition to the object store, raw/orders/date=D/."""
        from airflow_dags.runner import run_step

        settings = AirflowDagsSettings()
        interval = _interval(data_interval_start, data_interval_end)
        if not any(steps.orders_partition(settings, interval).glob("*.jsonl")):
            return {"records_in": 0, "records_out": 0, "status": "ok", "landed": False}
        return run_step(steps.land_orders(settings, interval), settings.venv("cloud_pipeline"))

    @task
    def transform(
        fetched: dict[str, Any],
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
    ) -> dict[str, Any]:
        """spark_etl: the partition's latest orders -> Parquet date=D and the CSV the load reads."""
        from airflow_dags.runner import run_step

        settings = AirflowDagsSettings()
        interval = _interval(data_interval_start, data_interval_end)
        # An interval without orders transforms nothing: its Parquet partition is emptied.
        steps.orders_partition(settings, interval).mkdir(parents=True, exist_ok=True)
        step = steps.transform_orders(settings, interval)
        summary = run_step(step, settings.venv("spark_etl"))
        return {**summary, "rows": summary["records_out"]}

    @task(pool=SETTINGS.postgres_pool)
    def load(staged: dict[str, Any]) -> dict[str, Any]:
        """csv_to_postgres: upsert the interval's CSV into the orders table."""
        from airflow_dags.runner import run_step

        settings = AirflowDagsSettings()
        if not staged["rows"]:
            # An empty interval loads nothing (and must not create an untyped table).
            return {"records_in": 0, "records_out": 0, "status": "ok", "loaded": False}
        step = steps.load_orders(settings, Path(staged["csv"]))
        return run_step(step, settings.venv("csv_to_postgres"))

    @task(pool=SETTINGS.postgres_pool)
    def check_quality(
        staged: dict[str, Any],
        loaded: dict[str, Any],
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
    ) -> dict[str, Any]:
        """The interval's rows in PostgreSQL: as many as staged, unique, keyed, valid."""
        from airflow_dags import quality

        settings = AirflowDagsSettings()
        interval = _interval(data_interval_start, data_interval_end)
        url = settings.database_url.get_secret_value()
        ids = (int(staged["id_range"][0]), int(staged["id_range"][1])) if staged["rows"] else (0, 0)
        found = quality.measure(url, settings.orders_table, interval, ids)
        return quality.check(found, int(staged["rows"]))

    @task(outlets=[ORDERS_TABLE])
    def push_metrics(
        fetched: dict[str, Any],
        landed: dict[str, Any],
        loaded: dict[str, Any],
        checked: dict[str, Any],
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
    ) -> dict[str, Any]:
        """The interval's counts to the Pushgateway; the orders asset is updated on success."""
        from airflow_dags.batch_metrics import push_batch

        interval = _interval(data_interval_start, data_interval_end)
        return push_batch(AirflowDagsSettings(), "daily_batch", interval, fetched, checked)

    # Calling a @task inside the DAG body passes XComArgs, not the values the annotations name.
    fetched = fetch()
    staged = transform(fetched)  # type: ignore[arg-type]
    loaded = load(staged)  # type: ignore[arg-type]
    checked = check_quality(staged, loaded)  # type: ignore[arg-type]
    landed = land(fetched)  # type: ignore[arg-type]
    push_metrics(fetched, landed, loaded, checked)  # type: ignore[arg-type]


daily_batch()
