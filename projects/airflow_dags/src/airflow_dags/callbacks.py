"""on_failure_callback: one log line and a Pushgateway metric per failed task (the alert source)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from airflow_dags.config import AirflowDagsSettings
from de_common.errors import ServiceUnavailable
from de_common.metrics import push

log = logging.getLogger(__name__)


def failure_registry(dag_id: str, task_id: str) -> CollectorRegistry:
    """The failure's series: a counter (pushadd keeps the last value per group) and its time."""
    registry = CollectorRegistry()
    Counter(
        "airflow_dags_task_failures", "Failed task tries.", ["dag", "task"], registry=registry
    ).labels(dag_id, task_id).inc()
    Gauge(
        "airflow_dags_last_failure_timestamp_seconds",
        "Unix time of the last failed task try.",
        ["dag", "task"],
        registry=registry,
    ).labels(dag_id, task_id).set(time.time())
    return registry


def on_failure(context: Mapping[str, Any]) -> None:
    """Log the failure with its error and push the metric; never raises (a callback must not)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = str(getattr(ti, "dag_id", "unknown"))
    task_id = str(getattr(ti, "task_id", "unknown"))
    error = context.get("exception")
    log.error(
        "task failed: %s.%s try %s: %s", dag_id, task_id, getattr(ti, "try_number", "?"), error
    )
    url = AirflowDagsSettings().pushgateway_url
    if not url:
        log.warning("failure metric not pushed: no pushgateway_url (AIRFLOW_DAGS_PUSHGATEWAY_URL)")
        return
    try:
        push(
            url, "airflow_dags", failure_registry(dag_id, task_id), {"dag": dag_id, "task": task_id}
        )
    except ServiceUnavailable as exc:
        log.warning("failure metric not pushed: %s", exc)
