"""log_rollup through `dag.test()`: one hour of generated web-server logs -> that hour's Parquet
partition, exactly the requests of that hour; a rerun replaces the partition, it does not add."""

from __future__ import annotations

import gzip
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow_dags.config import AirflowDagsSettings

pytestmark = pytest.mark.integration

DAGS = Path(__file__).resolve().parents[2] / "src" / "airflow_dags" / "dags"


def lines_in_hour(folder: Path, marker: str) -> int:
    """Independent truth: the generated lines stamped inside the hour."""
    total = 0
    for path in folder.iterdir():
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        total += sum(1 for line in data.splitlines() if marker.encode() in line)
    return total


def test_an_hour_of_logs_becomes_that_hours_parquet_and_reruns_replace_it(
    dag_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = tmp_path / "logs"
    python = AirflowDagsSettings().venv("log_analyzer") / "bin" / "python"
    subprocess.run(
        [python, "-m", "log_analyzer", "generate", str(logs), "--lines", "60000", "--json"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    monkeypatch.setenv("AIRFLOW_DAGS_LOG_DIR", str(logs))
    dag = DagBag(dag_folder=str(DAGS / "log_rollup.py")).dags["log_rollup"]
    partition = Path(dag_env["AIRFLOW_DAGS_DATA_DIR"]) / "logs" / "hour=2024010100"

    run = dag.test(logical_date=datetime(2024, 1, 1, 1, tzinfo=UTC))

    assert run.state == "success"
    assert run.data_interval_start == datetime(2024, 1, 1, tzinfo=UTC)
    table = pq.read_table(partition / "parquet")
    expected = lines_in_hour(logs, "[01/Jan/2024:00:")
    assert 0 < table.num_rows == expected < 60000
    files = len(list(partition.rglob("*.parquet")))
    rows = sorted(map(repr, table.to_pylist()))

    assert dag.test(logical_date=datetime(2024, 1, 1, 1, tzinfo=UTC)).state == "success"
    # Replaced, not added to: as many files (named by the new run) holding the same rows.
    assert len(list(partition.rglob("*.parquet"))) == files
    assert sorted(map(repr, pq.read_table(partition / "parquet").to_pylist())) == rows
    assert not [p for p in partition.parent.iterdir() if p.name.startswith(".")]
