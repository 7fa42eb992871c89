"""Retention drops exactly the old partitions from HDFS and Hive; HDFS stopped mid-upload."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from de_services.testing import fault_env

from .conftest import Lake

pytestmark = pytest.mark.integration


def test_retention_drops_exactly_the_old_partitions_from_both(
    lake: Lake, generated: Callable[..., Path]
) -> None:
    lake.ok("put", str(generated(days=6, files=1, rows=50)), "--dataset", "ev")  # 11-01 .. 11-06
    lake.ok("register", "ev")
    lake.ok("compact", "ev", "--dt", "2026-11-01", "--compact-min-files", "2")  # 1 file: skipped
    res = lake.ok("retention", "ev", "--as-of", "2026-11-07", "--retention-days", "3")
    assert res["dropped"] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert res["records_skipped"] == {"kept": 3}
    kept = ["2026-11-04", "2026-11-05", "2026-11-06"]
    assert sorted(lake.hdfs.list(f"{lake.root}/ev")) == [f"dt={d}" for d in kept]
    parts = lake.sql(f"SHOW PARTITIONS `{lake.database}`.ev")
    assert sorted(p[0] for p in parts) == [f"dt={d}" for d in kept]
    assert lake.sql(f"SELECT count(*) FROM `{lake.database}`.ev") == [(150,)]
    # Idempotent: nothing more to drop.
    assert (
        lake.ok("retention", "ev", "--as-of", "2026-11-07", "--retention-days", "3")["dropped"]
        == []
    )


def test_retention_killed_between_hive_and_hdfs_finishes_on_rerun(
    lake: Lake, generated: Callable[..., Path]
) -> None:
    lake.ok("put", str(generated(days=3, files=1, rows=50)), "--dataset", "ev")
    lake.ok("register", "ev")
    killed = lake.cli(
        "retention",
        "ev",
        "--as-of",
        "2026-11-04",
        "--retention-days",
        "1",
        env=fault_env("retention.after_drop"),
    )
    assert killed.returncode == -9
    assert "dt=2026-11-01" in lake.hdfs.list(f"{lake.root}/ev")  # orphan folder, no partition
    res = lake.ok("retention", "ev", "--as-of", "2026-11-04", "--retention-days", "1")
    assert "2026-11-01" in res["dropped"] or "2026-11-02" in res["dropped"]
    assert sorted(lake.hdfs.list(f"{lake.root}/ev")) == ["dt=2026-11-03"]
    assert [p[0] for p in lake.sql(f"SHOW PARTITIONS `{lake.database}`.ev")] == ["dt=2026-11-03"]


def test_hdfs_stopped_mid_upload_is_one_clear_error_and_a_rerun_completes(
    private_service: Callable[[str], object], generated: Callable[..., Path], tmp_path: Path
) -> None:
    hdfs = private_service("hdfs")
    url = hdfs.url  # type: ignore[attr-defined]
    data = generated(days=1, files=4, rows=20_000)
    env = {
        **os.environ,
        "HDFS_HIVE_HDFS_URL": url,
        "HDFS_HIVE_LAKE_ROOT": "/lake",
        "HDFS_HIVE_WORKERS": "1",
        "HDFS_HIVE_TIMEOUT_S": "10",
        "HDFS_HIVE_QUARANTINE": str(tmp_path / "rejects.jsonl"),
    }
    ready, release = tmp_path / "ready", tmp_path / "release"
    argv = [sys.executable, "-m", "hdfs_hive", "put", str(data), "--dataset", "ev", "--json"]
    proc = subprocess.Popen(
        argv,
        env={**env, **fault_env("put.mid_file", nth=2, pause=True, ready=ready, release=release)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ready.exists()
    hdfs.stop()  # type: ignore[attr-defined]
    release.touch()
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, out + err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: hdfs unreachable at " + url)
    summary = json.loads(out)
    assert summary["status"] == "failed" and summary["records_out"] == 1

    hdfs.start()  # type: ignore[attr-defined]
    rerun = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr
    done = json.loads(rerun.stdout)
    assert done["records_skipped"]["unchanged"] == 1 and done["records_out"] == 3
    from hdfs import InsecureClient

    client = InsecureClient(url, user="root")
    names = client.list("/lake/ev/dt=2026-11-01")
    assert sorted(names) == sorted(p.name for p in data.rglob("*.parquet"))
