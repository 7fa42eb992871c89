"""A finished interval's figures on the Pushgateway, grouped by DAG and partition."""

from __future__ import annotations

import logging
import time
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from airflow_dags.config import AirflowDagsSettings
from airflow_dags.interval import Interval
from de_common.errors import ServiceUnavailable
from de_common.metrics import push

log = logging.getLogger(__name__)


def push_batch(
    settings: AirflowDagsSettings,
    dag_id: str,
    interval: Interval,
    fetched: dict[str, Any],
    checked: dict[str, Any],
) -> dict[str, Any]:
    """Push rows fetched/rejected/loaded and the success time; returns what was pushed."""
    figures = {
        "fetched": int(fetched.get("records_out", 0)),
        "rejected": int(fetched.get("records_rejected", 0)),
        "loaded": int(checked["rows"]),
    }
    registry = CollectorRegistry()
    rows = Gauge("airflow_dags_interval_rows", "Rows of the last run of a partition.",
                 ["dag", "stage"], registry=registry)  # fmt: skip
    for stage, value in figures.items():
        rows.labels(dag_id, stage).set(value)
    Gauge("airflow_dags_last_success_timestamp_seconds", "Unix time of the partition's success.",
          ["dag"], registry=registry).labels(dag_id).set(time.time())  # fmt: skip
    pushed = False
    if settings.pushgateway_url:
        try:
            push(settings.pushgateway_url, "airflow_dags", registry,
                 {"dag": dag_id, "partition": interval.date})  # fmt: skip
            pushed = True
        except ServiceUnavailable as exc:
            # Like the run contract: an unreachable Pushgateway is logged, the data stays loaded.
            log.warning("metrics not pushed: %s", exc)
    return {**figures, "partition": interval.date, "pushed": pushed}
