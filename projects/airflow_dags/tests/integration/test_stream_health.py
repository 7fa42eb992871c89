"""stream_health through `dag.test()` on a real Kafka topic: under the limit it passes with the
lag kafka_ingest reports; over it the run fails and the failure callback's metric reaches the
Pushgateway (the alert source)."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow_dags.config import AirflowDagsSettings

from de_services.testing import unique_name

pytestmark = pytest.mark.integration

DAGS = Path(__file__).resolve().parents[2] / "src" / "airflow_dags" / "dags"
EVENTS = 20


@pytest.fixture
def lagging_topic(kafka_bootstrap: str) -> str:
    """A new topic with EVENTS events, both by kafka_ingest's CLI; nobody has consumed them."""
    python = AirflowDagsSettings().venv("kafka_ingest") / "bin" / "python"
    kafka_topic = unique_name("airflow-health", "-")
    subprocess.run(
        [python, "-m", "kafka_ingest", "topics", "create", kafka_topic, "--partitions", "2",
         "--bootstrap", kafka_bootstrap, "--json"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    subprocess.run(
        [python, "-m", "kafka_ingest", "produce", "--generate", str(EVENTS),
         "--bootstrap", kafka_bootstrap, "--topic", kafka_topic, "--json"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return kafka_topic


def last_failure(pushgateway: str) -> float:
    """airflow_dags_last_failure_timestamp_seconds of stream_health.kafka_lag (0 when absent)."""
    text = urllib.request.urlopen(f"{pushgateway}/metrics", timeout=10).read().decode()
    for line in text.splitlines():
        if (
            line.startswith("airflow_dags_last_failure_timestamp_seconds{")
            and 'dag="stream_health"' in line
            and 'task="kafka_lag"' in line
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_lag_under_the_limit_passes_and_over_it_alerts(
    dag_env: dict[str, str],
    kafka_bootstrap: str,
    lagging_topic: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW_DAGS_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("AIRFLOW_DAGS_KAFKA_TOPIC", lagging_topic)
    monkeypatch.setenv("AIRFLOW_DAGS_KAFKA_GROUP", f"{lagging_topic}-readers")
    pushgateway = dag_env["AIRFLOW_DAGS_PUSHGATEWAY_URL"]
    dag = DagBag(dag_folder=str(DAGS / "stream_health.py")).dags["stream_health"]

    monkeypatch.setenv("AIRFLOW_DAGS_MAX_KAFKA_LAG", str(EVENTS))
    assert dag.test().state == "success"
    before = last_failure(pushgateway)
    started = time.time()

    monkeypatch.setenv("AIRFLOW_DAGS_MAX_KAFKA_LAG", str(EVENTS - 1))
    assert dag.test().state == "failed"
    assert last_failure(pushgateway) >= started > before
