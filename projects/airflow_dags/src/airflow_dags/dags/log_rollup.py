"""log_rollup: every hour, log_analyzer over that hour's requests -> Parquet partition hour=H
-> uploaded to HDFS and registered as the Hive partition dt=YYYY-MM-DD/hour=HH (hdfs_hive).

The hour's output is written to a fresh folder and swapped in whole, locally and in Hive (a new
HDFS folder, then one metastore update), so a rerun replaces the hour and never adds to it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import CronDataIntervalTimetable, dag, task

from airflow_dags import steps
from airflow_dags.assets import LOG_PARQUET
from airflow_dags.config import AirflowDagsSettings
from airflow_dags.dag_defaults import default_args
from airflow_dags.interval import Interval

SETTINGS = AirflowDagsSettings()


@dag(
    dag_id="log_rollup",
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=4,
    default_args=default_args(SETTINGS),
    tags=["batch", "logs", "parquet", "hive"],
    doc_md=__doc__,
)
def log_rollup() -> None:
    @task
    def analyze(
        data_interval_start: datetime | None = None, data_interval_end: datetime | None = None
    ) -> dict[str, Any]:
        """log_analyzer --since/--until the hour, Parquet + HTML report, published whole."""
        from airflow_dags.partitions import publish, staging_for
        from airflow_dags.runner import run_step

        assert data_interval_start is not None and data_interval_end is not None
        settings = AirflowDagsSettings()
        interval = Interval.of(data_interval_start, data_interval_end)
        final = steps.logs_partition(settings, interval)
        staging = staging_for(final)
        summary = run_step(
            steps.analyze_logs(settings, interval, staging), settings.venv("log_analyzer")
        )
        summary.pop("report", None)  # the full report stays in the partition's HTML, not XCom
        return {**summary, "partition": str(publish(staging, final))}

    @task(outlets=[LOG_PARQUET])
    def to_hive(
        analyzed: dict[str, Any],
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
    ) -> dict[str, Any]:
        """hdfs_hive load: the hour's Parquet replaces its Hive partition (HDFS folder swapped)."""
        from pathlib import Path

        from airflow_dags.runner import run_step

        assert data_interval_start is not None and data_interval_end is not None
        settings = AirflowDagsSettings()
        interval = Interval.of(data_interval_start, data_interval_end)
        parquet = Path(analyzed["partition"]) / "parquet"
        if not any(parquet.rglob("*.parquet")):
            # hdfs_hive refuses an empty folder (it would not empty the hour): nothing to publish.
            return {"records_in": 0, "records_out": 0, "status": "ok", "loaded": False}
        return run_step(
            steps.load_logs_hour(settings, interval, parquet), settings.venv("hdfs_hive")
        )

    to_hive(analyze())  # type: ignore[arg-type]


log_rollup()
