"""What the integration tests share: a migrated Airflow metadata database (SQLite, like
`dag.test()` users), the bundled orders API of api_fetcher, and the DAG settings pointed at the
real services of the de_services fixtures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow_dags.config import AirflowDagsSettings

AIRFLOW = Path(sys.executable).with_name("airflow")
# The demo API's orders: order i is updated at 2024-01-01 00:00 + (i - 1) minutes, and every
# 97th breaks the source's schema (amount "n/a"): api_fetcher quarantines it.
API_RECORDS = 3000
INVALID_EVERY = 97


def expected_ids(day: int) -> set[int]:
    """The valid orders dated 2024-01-<day> (1440 per day)."""
    first = (day - 1) * 1440 + 1
    return {i for i in range(first, first + 1440) if i <= API_RECORDS and i % INVALID_EVERY}


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """`airflow db migrate` once for the session and the pool the PostgreSQL tasks use."""
    subprocess.run([AIRFLOW, "db", "migrate"], check=True, capture_output=True, timeout=300)
    subprocess.run(
        [AIRFLOW, "pools", "set", "postgres", "2", "PostgreSQL-heavy tasks"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="session")
def orders_api() -> Iterator[str]:
    """api_fetcher's bundled orders API (a real HTTP server) from api_fetcher's own venv."""
    python = AirflowDagsSettings().venv("api_fetcher") / "bin" / "python"
    args = ["--port", "0", "--records", str(API_RECORDS), "--invalid-every", str(INVALID_EVERY)]
    proc = subprocess.Popen(
        [python, "-m", "api_fetcher", "demo-api", *args],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), f"demo-api printed {url!r}"
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture
def dag_env(
    airflow_db: None,
    orders_api: str,
    pg_database: str,
    pushgateway_url: str,
    s3_endpoint: str,
    s3_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """The DAG settings for one test: its own database and lake folder, fast retries."""
    env = {
        "AIRFLOW_DAGS_API_BASE_URL": orders_api,
        "AIRFLOW_DAGS_DATABASE_URL": pg_database,
        "AIRFLOW_DAGS_DATA_DIR": str(tmp_path / "lake"),
        "AIRFLOW_DAGS_PUSHGATEWAY_URL": pushgateway_url,
        "AIRFLOW_DAGS_LAKE_URL": f"s3://{s3_bucket}/lake",
        "AIRFLOW_DAGS_S3_ENDPOINT_URL": s3_endpoint,
        # moto takes any credentials; cloud_pipeline reads them from the standard AWS variables.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AIRFLOW_DAGS_RETRY_DELAY_S": "1",
        "AIRFLOW_DAGS_MAX_RETRY_DELAY_S": "2",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def venvs_with(project: str, python: Path) -> str:
    """AIRFLOW_DAGS_VENVS with one project's venv replaced."""
    current = json.loads(os.environ.get("AIRFLOW_DAGS_VENVS") or "{}")
    return json.dumps({**current, project: str(python)})
