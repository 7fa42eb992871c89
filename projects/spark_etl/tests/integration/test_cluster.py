"""The packaged job on a Spark standalone cluster (a master and one worker started from the pyspark
installation's own classes on 127.0.0.1) writes exactly what local mode writes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyspark
import pytest
import spark_etl
from spark_etl import session

from .conftest import LAST, START, assert_matches, cli, expected, parquet_daily, summary_of

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spark_env() -> dict[str, str]:
    home = os.environ.get("JAVA_HOME") or session._java_home()
    assert home, "no Java on PATH"
    return {
        **os.environ,
        "JAVA_HOME": home,
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }


def wait_for(log: Path, text: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        time.sleep(0.5)
    raise AssertionError(f"{text!r} not in {log} after {timeout}s")


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """spark://127.0.0.1:PORT with one worker (1 core, 1 GiB); both stopped by their pids after."""
    port, work = free_port(), tmp_path / "worker"
    work.mkdir()
    spark_class = str(BIN / "spark-class")
    started: list[subprocess.Popen[bytes]] = []
    try:
        master_log = tmp_path / "master.log"
        master_args = ["--host", "127.0.0.1", "--port", str(port), "--webui-port", str(free_port())]
        master = subprocess.Popen(
            [spark_class, "org.apache.spark.deploy.master.Master", *master_args],
            stdout=master_log.open("wb"),
            stderr=subprocess.STDOUT,
            env=spark_env(),
        )
        started.append(master)
        wait_for(master_log, "I have been elected leader", master)
        url = f"spark://127.0.0.1:{port}"
        worker_log = tmp_path / "worker.log"
        worker_args = [url, "--host", "127.0.0.1", "--cores", "1", "--memory", "1g"]
        worker_args += ["--webui-port", str(free_port()), "--work-dir", str(work)]
        worker = subprocess.Popen(
            [spark_class, "org.apache.spark.deploy.worker.Worker", *worker_args],
            stdout=worker_log.open("wb"),
            stderr=subprocess.STDOUT,
            env=spark_env(),
        )
        started.append(worker)
        wait_for(worker_log, "Successfully registered with master", worker)
        yield url, work
    finally:
        for process in reversed(started):
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def trips_rows(lake: Path) -> list[tuple[object, ...]]:
    return duckdb.sql(
        f"SELECT * FROM read_parquet('{lake}/trips/*/*.parquet', hive_partitioning = true) "
        "ORDER BY trip_id"
    ).fetchall()


def test_the_packaged_job_on_a_standalone_cluster_equals_local_mode(
    standalone: tuple[str, Path], landing: Path, tmp_path: Path
) -> None:
    url, work = standalone
    wheels = tmp_path / "dist"
    project = Path(spark_etl.__file__).resolve().parents[2]
    for unit in (project, project.parents[1] / "shared"):
        subprocess.run(
            ["uv", "build", "--wheel", "--quiet", "--out-dir", str(wheels), str(unit)], check=True
        )
    py_files = ",".join(str(p) for p in sorted(wheels.glob("*.whl")))
    dates = ["--from", START.isoformat(), "--to", LAST.isoformat()]
    cluster_lake, local_lake = tmp_path / "cluster", tmp_path / "local"
    submit = [str(BIN / "spark-submit"), "--master", url, "--py-files", py_files]
    submit += [
        "--conf",
        "spark.driver.host=127.0.0.1",
        "--conf",
        "spark.driver.bindAddress=127.0.0.1",
    ]
    submit += ["--conf", "spark.ui.enabled=false", "--executor-memory", "512m"]
    submit += [str(Path(spark_etl.__file__).parent / "__main__.py"), "run", *dates]
    submit += ["--source", str(landing), "--output", str(cluster_lake), "--json"]

    on_cluster = subprocess.run(
        submit, capture_output=True, text=True, env=spark_env(), timeout=900, check=False
    )
    local = cli("run", *dates, "--source", str(landing), "--output", str(local_lake))

    cluster_summary, local_summary = summary_of(on_cluster), summary_of(local)
    assert_matches(cluster_summary, expected(landing))
    assert {k: v for k, v in cluster_summary.items() if k != "duration_s" and k != "output"} == {
        k: v for k, v in local_summary.items() if k != "duration_s" and k != "output"
    }
    assert parquet_daily(cluster_lake) == parquet_daily(local_lake) == expected(landing).daily
    assert trips_rows(cluster_lake) == trips_rows(local_lake)
    # The work ran in the worker's executor, not in the driver.
    assert list(work.glob("app-*/*/stderr"))
