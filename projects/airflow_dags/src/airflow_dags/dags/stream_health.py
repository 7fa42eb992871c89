"""stream_health: Kafka consumer lag and rabbitmq_worker's parking lot against their limits,
every 15 minutes and after every load, through the monitoring project's threshold checks.

A breach (or an unreachable service) makes the check exit 1 and fails its task; the task's
on_failure_callback logs the alert and pushes airflow_dags_task_failures to the Pushgateway,
where the alert rules pick it up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from airflow_dags import steps
from airflow_dags.assets import LOG_PARQUET, ORDERS_TABLE
from airflow_dags.config import AirflowDagsSettings
from airflow_dags.dag_defaults import default_args

SETTINGS = AirflowDagsSettings()


@dag(
    dag_id="stream_health",
    # Asset-driven: a fresh orders table or log partition triggers a check at once.
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("*/15 * * * *", timezone="UTC"),
        assets=(ORDERS_TABLE | LOG_PARQUET),
    ),
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={**default_args(SETTINGS), "retries": 0},
    tags=["streaming", "health", "kafka", "rabbitmq"],
    doc_md=__doc__,
)
def stream_health() -> None:
    @task
    def kafka_lag() -> dict[str, Any]:
        """monitoring check kafka-lag; fails above max_kafka_lag (a health check is not retried)."""
        from airflow_dags.runner import run_step

        settings = AirflowDagsSettings()
        return run_step(steps.kafka_lag(settings), settings.venv("monitoring"))

    @task
    def parking_lot() -> dict[str, Any]:
        """monitoring check parking-lot on rabbitmq_worker's <prefix>.parked; fails above max_parked."""
        from airflow_dags.runner import run_step

        settings = AirflowDagsSettings()
        return run_step(steps.parking_lot(settings), settings.venv("monitoring"))

    # Independent: one breach never hides the other's verdict.
    kafka_lag()
    parking_lot()


stream_health()
