"""The DAG files: import clean, parse fast, and have the shape the issue asks for."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

DAGS = Path(__file__).resolve().parents[2] / "src" / "airflow_dags" / "dags"


@pytest.fixture(scope="module")
def bag() -> DagBag:
    return DagBag(dag_folder=str(DAGS))


def test_every_dag_imports_without_errors(bag: DagBag) -> None:
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {"daily_batch", "log_rollup", "stream_health"}


@pytest.mark.parametrize("name", ["daily_batch", "log_rollup", "stream_health"])
def test_each_dag_file_parses_in_under_a_second(name: str) -> None:
    # A fresh interpreter with Airflow already imported, as in the DAG processor; the file's own
    # parse (its imports included) is timed by DagBag itself.
    code = (
        "import sys, airflow.sdk\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        "bag = DagBag(dag_folder=sys.argv[1])\n"
        "assert not bag.import_errors, bag.import_errors\n"
        "print(sum(s.duration.total_seconds() if hasattr(s.duration, 'total_seconds') "
        "else s.duration for s in bag.dagbag_stats))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(DAGS / f"{name}.py")],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    seconds = float(out.stdout.strip().splitlines()[-1])
    assert 0 < seconds < 1.0, f"{name} parsed in {seconds:.2f}s"


def deps(dag: Any) -> set[tuple[str, str]]:
    return {(up, t.task_id) for t in dag.tasks for up in t.upstream_task_ids}


def test_daily_batch_chain(bag: DagBag) -> None:
    dag = bag.dags["daily_batch"]
    assert {t.task_id for t in dag.tasks} == {
        "fetch", "land", "transform", "load", "check_quality", "push_metrics",
    }  # fmt: skip
    assert {("fetch", "transform"), ("transform", "load"), ("load", "check_quality"),
            ("check_quality", "push_metrics"), ("fetch", "land"),
            ("land", "push_metrics")} <= deps(dag)  # fmt: skip
    assert dag.catchup is True
    assert dag.max_active_runs == 2
    assert [t.task_id for t in dag.tasks if t.pool == "postgres"] == ["load", "check_quality"]
    assert [o.name for o in dag.get_task("push_metrics").outlets] == ["orders_table"]


def test_daily_batch_runs_own_data_intervals(bag: DagBag) -> None:
    dag = bag.dags["daily_batch"]
    from airflow.timetables.interval import CronDataIntervalTimetable
    from pendulum import datetime as pdt

    table = dag.timetable
    interval = CronDataIntervalTimetable("0 0 * * *", "UTC").infer_manual_data_interval(
        run_after=pdt(2024, 1, 2)
    )
    assert type(table).__name__ == "CronDataIntervalTimetable"
    assert (interval.start, interval.end) == (pdt(2024, 1, 1), pdt(2024, 1, 2))


@pytest.mark.parametrize("dag_id", ["daily_batch", "log_rollup", "stream_health"])
def test_every_task_has_owner_timeout_backoff_and_the_failure_callback(
    bag: DagBag, dag_id: str
) -> None:
    from airflow_dags.callbacks import on_failure

    dag = bag.dags[dag_id]
    assert dag.tags
    for t in dag.tasks:
        assert t.owner == "data-platform"
        assert t.execution_timeout == timedelta(seconds=1800)
        assert t.retry_exponential_backoff
        assert t.max_retry_delay == timedelta(seconds=600)
        assert t.on_failure_callback == [on_failure] or t.on_failure_callback == on_failure
        assert t.retries == (0 if dag_id == "stream_health" else 3)


def test_no_cycles(bag: DagBag) -> None:
    for dag in bag.dags.values():
        order: list[str] = []
        pending = {t.task_id: set(t.upstream_task_ids) for t in dag.tasks}
        while pending:
            ready = [k for k, ups in pending.items() if not ups - set(order)]
            assert ready, f"cycle in {dag.dag_id} among {sorted(pending)}"
            order += ready
            for k in ready:
                del pending[k]


def test_stream_health_is_triggered_by_the_assets_the_others_produce(bag: DagBag) -> None:
    dag = bag.dags["stream_health"]
    produced = {
        o.name for d in ("daily_batch", "log_rollup") for t in bag.dags[d].tasks for o in t.outlets
    }
    consumed = {a.name for a in dag.timetable.asset_condition.objects}
    assert produced == consumed == {"orders_table", "log_parquet"}


def test_settings_reach_the_dag_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_DAGS_RETRIES", "5")
    monkeypatch.setenv("AIRFLOW_DAGS_CATCHUP", "false")
    monkeypatch.setenv("AIRFLOW_DAGS_POSTGRES_POOL", "pg_heavy")
    dag = DagBag(dag_folder=str(DAGS / "daily_batch.py")).dags["daily_batch"]
    assert dag.catchup is False
    assert {t.retries for t in dag.tasks} == {5}
    assert dag.get_task("load").pool == "pg_heavy"


def test_stream_health_runs_both_checks_independently(bag: DagBag) -> None:
    dag = bag.dags["stream_health"]
    assert {t.task_id for t in dag.tasks} == {"kafka_lag", "parking_lot"}
    assert deps(dag) == set()  # a lag breach never skips the parking-lot verdict


def test_the_checks_are_monitorings_and_the_password_stays_out_of_argv(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow_dags import steps
    from airflow_dags.config import AirflowDagsSettings

    monkeypatch.setenv("AIRFLOW_DAGS_RABBITMQ_PREFIX", "orders")
    monkeypatch.setenv("AIRFLOW_DAGS_RABBITMQ_PASSWORD", "s3cret-pw")
    monkeypatch.setenv("AIRFLOW_DAGS_MAX_PARKED", "5")
    settings = AirflowDagsSettings()
    parked = steps.parking_lot(settings)
    assert parked.project == "monitoring"
    assert parked.args == ("check", "parking-lot", "--queue", "orders.parked", "--max", "5")
    assert parked.env["MONITORING_RABBITMQ_PASSWORD"] == "s3cret-pw"
    assert "s3cret-pw" not in " ".join(parked.argv(settings.venv("monitoring")))
    lag = steps.kafka_lag(settings)
    assert (lag.project, lag.args[:2]) == ("monitoring", ("check", "kafka-lag"))
    assert lag.args[lag.args.index("--max-lag") + 1] == str(settings.max_kafka_lag)


def test_log_rollup_publishes_the_hour_to_hive_after_the_analysis(bag: DagBag) -> None:
    dag = bag.dags["log_rollup"]
    assert deps(dag) == {("analyze", "to_hive")}
    assert [o.name for o in dag.get_task("to_hive").outlets] == ["log_parquet"]
    assert not dag.get_task("analyze").outlets  # the asset means "queryable in Hive"


def test_the_hive_partition_of_an_hour() -> None:
    from datetime import UTC, datetime

    from airflow_dags.interval import Interval

    start = datetime(2024, 3, 9, 7, tzinfo=UTC)
    hour = Interval.of(start, datetime(2024, 3, 9, 8, tzinfo=UTC))
    assert hour.hive_partition == "dt=2024-03-09/hour=07"
