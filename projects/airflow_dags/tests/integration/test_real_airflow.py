"""daily_batch the way users run Airflow: scheduler, DAG processor and API server as separate
processes (LocalExecutor, PostgreSQL metadata database), the run triggered through the REST API
with a token from the simple auth manager, awaited to success, its task logs read back."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from de_services.testing import unique_name

from .conftest import AIRFLOW, expected_ids

pytestmark = pytest.mark.integration

DAGS = Path(__file__).resolve().parents[2] / "src" / "airflow_dags" / "dags"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Api:
    """The REST API v2 with a bearer token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token = ""

    def call(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read().decode()
        return json.loads(raw) if raw.startswith(("{", "[")) else raw


def wait_for(what: str, probe: Any, timeout: float, procs: dict[str, subprocess.Popen[bytes]],
             logs: Path) -> Any:  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                tail = (logs / f"{name}.log").read_text()[-3000:]
                raise AssertionError(f"airflow {name} exited {proc.returncode}:\n{tail}")
        try:
            value = probe()
        except (urllib.error.URLError, ConnectionError, OSError):
            value = None
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def data_database(postgres_url: str) -> Iterator[str]:
    """A second fresh database for the orders, apart from Airflow's metadata."""
    name = unique_name("orders")
    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_scheduler_runs_daily_batch_triggered_through_the_rest_api(
    dag_env: dict[str, str], pg_database: str, data_database: str, tmp_path: Path
) -> None:
    home, port, password = tmp_path / "airflow", free_port(), secrets.token_hex(8)
    home.mkdir()
    (home / "passwords.json").write_text(json.dumps({"admin": password}))
    env = {
        **os.environ,
        **dag_env,
        "AIRFLOW_DAGS_DATABASE_URL": data_database,
        "AIRFLOW_DAGS_CATCHUP": "false",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg_database.replace(
            "postgresql://", "postgresql+psycopg2://", 1
        ),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
    }
    for args in (["db", "migrate"], ["pools", "set", "postgres", "2", "PostgreSQL-heavy"]):
        subprocess.run([AIRFLOW, *args], env=env, check=True, capture_output=True, timeout=300)

    procs: dict[str, subprocess.Popen[bytes]] = {}
    commands = {
        "api-server": ["api-server", "--port", str(port), "--host", "127.0.0.1", "--workers", "1"],
        "scheduler": ["scheduler"],
        "dag-processor": ["dag-processor"],
    }
    try:
        for name, args in commands.items():
            with (tmp_path / f"{name}.log").open("wb") as log:
                procs[name] = subprocess.Popen(
                    [AIRFLOW, *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
        api = Api(f"http://127.0.0.1:{port}")
        wait_for("the API server", lambda: api.call("GET", "/api/v2/monitor/health", auth=False),
                 180, procs, tmp_path)  # fmt: skip
        login = {"username": "admin", "password": password}
        api.token = api.call("POST", "/auth/token", login, auth=False)["access_token"]
        wait_for("daily_batch parsed",
                 lambda: api.call("GET", "/api/v2/dags/daily_batch"), 180, procs, tmp_path)  # fmt: skip

        run = api.call("POST", "/api/v2/dags/daily_batch/dagRuns",
                       {"logical_date": "2024-01-02T00:00:00Z", "dag_run_id": "rest_2024_01_01"})  # fmt: skip
        api.call("PATCH", "/api/v2/dags/daily_batch", {"is_paused": False})
        path = f"/api/v2/dags/daily_batch/dagRuns/{run['dag_run_id']}"
        final = wait_for(
            "the run to finish",
            lambda: (r := api.call("GET", path))["state"] in ("success", "failed") and r,
            420, procs, tmp_path,
        )  # fmt: skip
        assert final["state"] == "success", final
        assert final["data_interval_start"].startswith("2024-01-01T00:00:00")

        tis = api.call("GET", f"{path}/taskInstances")["task_instances"]
        assert {t["task_id"]: t["state"] for t in tis} == dict.fromkeys(
            ["fetch", "land", "transform", "load", "check_quality", "push_metrics"], "success"
        )
        log = api.call("GET", f"{path}/taskInstances/load/logs/1")
        text = json.dumps(log)
        assert "-m csv_to_postgres load" in text and "csv_to_postgres |" in text

        # A backfill over a range: the intervals 2024-01-03 (120 orders) and 2024-01-04 (none).
        api.call("POST", "/api/v2/backfills", {
            "dag_id": "daily_batch", "from_date": "2024-01-03T00:00:00Z",
            "to_date": "2024-01-04T00:00:00Z", "max_active_runs": 2,
        })  # fmt: skip

        def backfilled() -> list[dict[str, Any]] | None:
            runs = api.call("GET", "/api/v2/dags/daily_batch/dagRuns?run_type=backfill")
            done = [r for r in runs["dag_runs"] if r["state"] in ("success", "failed")]
            return done if len(done) == 2 else None

        runs = wait_for("the backfill", backfilled, 420, procs, tmp_path)
        assert sorted((r["data_interval_start"][:10], r["state"]) for r in runs) == [
            ("2024-01-03", "success"), ("2024-01-04", "success"),
        ]  # fmt: skip

        with psycopg2.connect(data_database) as conn, conn.cursor() as cur:
            cur.execute("SELECT id FROM orders")
            assert {int(r[0]) for r in cur.fetchall()} == expected_ids(1) | expected_ids(3)
        conn.close()
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
