"""What every task of every DAG shares: owner, retries with exponential backoff, timeout, alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow_dags.callbacks import on_failure
from airflow_dags.config import AirflowDagsSettings


def default_args(settings: AirflowDagsSettings) -> dict[str, Any]:
    """default_args for @dag: the delay doubles each retry, up to max_retry_delay."""
    return {
        "owner": settings.owner,
        "retries": settings.retries,
        "retry_delay": timedelta(seconds=settings.retry_delay_s),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(seconds=settings.max_retry_delay_s),
        "execution_timeout": timedelta(seconds=settings.task_timeout_s),
        "on_failure_callback": on_failure,
    }
