"""log_rollup through `dag.test()` against the real HDFS and HiveServer2: one hour of generated
web-server logs -> that hour's Parquet partition, exactly the requests of that hour, uploaded and
registered as the Hive partition dt=/hour= and counted there; a rerun replaces the hour locally
and in Hive (the same count, one HDFS folder), it does not add."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow_dags.config import AirflowDagsSettings

from de_services.testing import unique_name

pytestmark = pytest.mark.integration

DAGS = Path(__file__).resolve().parents[2] / "src" / "airflow_dags" / "dags"


def lines_in_hour(folder: Path, marker: str) -> int:
    """Independent truth: the generated lines stamped inside the hour."""
    total = 0
    for path in folder.iterdir():
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        total += sum(1 for line in data.splitlines() if marker.encode() in line)
    return total


def hdfs_hive(*args: str) -> dict[str, Any]:
    """hdfs_hive's CLI in its own venv (as the DAG runs it), with the test's lake settings."""
    python = AirflowDagsSettings().venv("hdfs_hive") / "bin" / "python"
    done = subprocess.run(
        [python, "-m", "hdfs_hive", *args, "--json"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "HDFS_HIVE_HDFS_URL": os.environ["AIRFLOW_DAGS_HDFS_URL"],
             "HDFS_HIVE_HIVE_URL": os.environ["AIRFLOW_DAGS_HIVE_URL"],
             "HDFS_HIVE_LAKE_ROOT": os.environ["AIRFLOW_DAGS_HDFS_LAKE_ROOT"]},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture
def hive_lake(
    dag_env: dict[str, str], hdfs_url: str, hive_url: str, hdfs_dir: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:  # fmt: skip
    """A fresh HDFS lake root and Hive database for the test; the database dropped after it."""
    database = unique_name("airflow_logs")
    for key, value in {
        "AIRFLOW_DAGS_HDFS_URL": hdfs_url,
        "AIRFLOW_DAGS_HIVE_URL": hive_url,
        "AIRFLOW_DAGS_HDFS_LAKE_ROOT": hdfs_dir,
        "AIRFLOW_DAGS_HIVE_DATABASE": database,
    }.items():
        monkeypatch.setenv(key, value)
    yield database
    hdfs_hive("query", f"DROP DATABASE IF EXISTS `{database}` CASCADE")


def hive_hour(database: str, dt: str = "2024-01-01", hour: str = "00") -> int:
    """The hour's rows as Hive counts them (through HiveServer2, not the files)."""
    result = hdfs_hive(
        "query", f"SELECT count(*) AS n FROM `{database}`.access_logs "
        "WHERE dt = %(dt)s AND hour = %(hour)s", "-p", f"dt={dt}", "-p", f"hour={hour}",
    )  # fmt: skip
    return int(result["rows"][0]["n"])


def hdfs_folders(folder: str) -> list[str]:
    """The sub-folders of an HDFS folder, listed over WebHDFS."""
    url = f"{os.environ['AIRFLOW_DAGS_HDFS_URL']}/webhdfs/v1{folder}?op=LISTSTATUS&user.name=root"
    with urllib.request.urlopen(url, timeout=30) as response:
        listed = json.load(response)["FileStatuses"]["FileStatus"]
    return sorted(f["pathSuffix"] for f in listed if f["type"] == "DIRECTORY")


def generate_logs(folder: Path, lines: int, seed: int) -> None:
    """log_analyzer's seeded sample logs (its own venv), replacing what the folder held."""
    python = AirflowDagsSettings().venv("log_analyzer") / "bin" / "python"
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run(
        [python, "-m", "log_analyzer", "generate", str(folder), "--lines", str(lines),
         "--seed", str(seed), "--json"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip


def test_an_hour_of_logs_lands_in_hive_and_reruns_replace_it(
    dag_env: dict[str, str], hive_lake: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = tmp_path / "logs"
    generate_logs(logs, 60000, seed=42)
    monkeypatch.setenv("AIRFLOW_DAGS_LOG_DIR", str(logs))
    dag = DagBag(dag_folder=str(DAGS / "log_rollup.py")).dags["log_rollup"]
    partition = Path(dag_env["AIRFLOW_DAGS_DATA_DIR"]) / "logs" / "hour=2024010100"
    generations = (
        f"{os.environ['AIRFLOW_DAGS_HDFS_LAKE_ROOT']}/access_logs/_loads/dt=2024-01-01/hour=00"
    )

    run = dag.test(logical_date=datetime(2024, 1, 1, 1, tzinfo=UTC))

    assert run.state == "success"
    assert run.data_interval_start == datetime(2024, 1, 1, tzinfo=UTC)
    table = pq.read_table(partition / "parquet")
    expected = lines_in_hour(logs, "[01/Jan/2024:00:")
    assert 0 < table.num_rows == expected < 60000
    assert hive_hour(hive_lake) == expected
    assert len(hdfs_folders(generations)) == 1
    files = len(list(partition.rglob("*.parquet")))
    rows = sorted(map(repr, table.to_pylist()))

    # The same logs again: the same rows, locally and in Hive, in as many files; not added to.
    assert dag.test(logical_date=datetime(2024, 1, 1, 1, tzinfo=UTC)).state == "success"
    assert len(list(partition.rglob("*.parquet"))) == files
    assert sorted(map(repr, pq.read_table(partition / "parquet").to_pylist())) == rows
    assert not [p for p in partition.parent.iterdir() if p.name.startswith(".")]
    assert hive_hour(hive_lake) == expected
    assert len(hdfs_folders(generations)) == 1

    # Other logs for the same hour (late data, a fix): the rerun replaces the hour in Hive.
    generate_logs(logs, 30000, seed=7)
    changed = lines_in_hour(logs, "[01/Jan/2024:00:")
    assert changed != expected
    assert dag.test(logical_date=datetime(2024, 1, 1, 1, tzinfo=UTC)).state == "success"
    assert pq.read_table(partition / "parquet").num_rows == changed
    assert hive_hour(hive_lake) == changed
    assert len(hdfs_folders(generations)) == 1
