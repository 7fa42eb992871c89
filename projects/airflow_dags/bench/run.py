"""DAG parse times (`airflow dags report`) and daily_batch end to end on the demo orders, with
each task's share of the wall time, against the local services (DE_* URLs or the defaults).

    uv run --locked nox -s bench -- airflow_dags [--orders 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

DAGS = Path(__file__).resolve().parents[1] / "src" / "airflow_dags" / "dags"
AIRFLOW = Path(sys.executable).with_name("airflow")


def prepare(home: Path, orders_api: str, database: str, bucket: str) -> dict[str, str]:
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_DAGS_API_BASE_URL": orders_api,
        "AIRFLOW_DAGS_DATABASE_URL": database,
        "AIRFLOW_DAGS_DATA_DIR": str(home / "lake"),
        "AIRFLOW_DAGS_LAKE_URL": f"s3://{bucket}/lake",
        "AIRFLOW_DAGS_S3_ENDPOINT_URL": os.environ.get("DE_S3_ENDPOINT", "http://127.0.0.1:25000"),
        "AIRFLOW_DAGS_PUSHGATEWAY_URL": os.environ.get(
            "DE_PUSHGATEWAY_URL", "http://127.0.0.1:29091"
        ),
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    os.environ.update(env)
    for args in (["db", "migrate"], ["pools", "set", "postgres", "2", "PostgreSQL-heavy"]):
        subprocess.run([AIRFLOW, *args], check=True, capture_output=True)
    return env


def parse_report() -> list[dict[str, str]]:
    out = subprocess.run(
        [AIRFLOW, "dags", "report", "-o", "json"], check=True, capture_output=True, text=True
    ).stdout
    # Airflow logs to stdout too: the report is the line that is a JSON array.
    line = next(ln for ln in out.splitlines() if ln.startswith("[{"))
    return list(json.loads(line))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=3000, help="Orders the demo API serves.")
    opts = parser.parse_args()
    # Imports after AIRFLOW_HOME is set: Airflow reads its configuration once, on import.
    home = Path(tempfile.mkdtemp(prefix="airflow_dags-bench-"))
    os.environ["AIRFLOW_HOME"] = str(home)
    import boto3
    import psycopg2
    from airflow_dags.config import AirflowDagsSettings

    pg = os.environ.get("DE_POSTGRES_URL", "postgresql://postgres@127.0.0.1:25432/postgres")
    name = f"airflow_bench_{os.getpid()}"
    admin = psycopg2.connect(pg)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    bucket = f"airflow-bench-{os.getpid()}"
    endpoint = os.environ.get("DE_S3_ENDPOINT", "http://127.0.0.1:25000")
    # moto takes any credentials; real ones come from the AWS_* environment.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing-secret")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    python = AirflowDagsSettings().venv("api_fetcher") / "bin" / "python"
    api = subprocess.Popen(
        [python, "-m", "api_fetcher", "demo-api", "--port", "0", "--records", str(opts.orders)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert api.stdout is not None
        prepare(home, api.stdout.readline().strip(), pg.rsplit("/", 1)[0] + f"/{name}", bucket)
        print("dags report (parse time per file):")
        for row in parse_report():
            print(f"  {Path(row['file']).name:18} {row['duration']:>16}  dags={row['dag_num']} "
                  f"tasks={row['task_num']}")  # fmt: skip

        from airflow.dag_processing.dagbag import DagBag
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session

        dag = DagBag(dag_folder=str(DAGS / "daily_batch.py")).dags["daily_batch"]
        started = time.perf_counter()
        run = dag.test(logical_date=datetime(2024, 1, 2, tzinfo=UTC))
        wall = time.perf_counter() - started
        assert run.state == "success", run.state
        with create_session() as session:
            tis = session.query(TaskInstance).filter_by(dag_id="daily_batch", run_id=run.run_id)
            durations = {ti.task_id: float(ti.duration or 0) for ti in tis}
        print(f"daily_batch 2024-01-01 ({min(opts.orders, 1440)} orders): {wall:.1f}s wall")
        for task, seconds in sorted(durations.items(), key=lambda kv: -kv[1]):
            print(f"  {task:14} {seconds:6.2f}s  {100 * seconds / wall:5.1f}%")
        overhead = wall - sum(durations.values())
        print(f"  {'(scheduling)':14} {overhead:6.2f}s  {100 * overhead / wall:5.1f}%")
    finally:
        api.terminate()
        api.wait()
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
        for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=obj["Key"])
        s3.delete_bucket(Bucket=bucket)


if __name__ == "__main__":
    main()
