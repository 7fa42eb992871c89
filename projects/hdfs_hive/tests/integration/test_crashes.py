"""SIGKILL mid-upload and mid-compaction, then rerun: readers never see a partial state."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hdfs_hive.checksum import file_checksum, remote_md5

from de_services.testing import fault_env

from .conftest import Lake

pytestmark = pytest.mark.integration

KILLED = -9


def _big_parquet(path: Path, mb: int = 24) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Random bytes do not compress: the file is about `mb` MB, many 4 MB chunks to stream.
    blobs = [os.urandom(1024) for _ in range(mb * 1024)]
    pq.write_table(pa.table({"blob": pa.array(blobs, pa.binary())}), path, compression="none")
    return path


@pytest.mark.parametrize("point", ["put.mid_file", "put.before_rename"])
def test_an_upload_killed_mid_file_leaves_nothing_at_the_final_path(
    lake: Lake, tmp_path: Path, point: str
) -> None:
    local = _big_parquet(tmp_path / "src" / "dt=2026-11-01" / "part-00000.parquet")
    final = f"{lake.root}/big/dt=2026-11-01/part-00000.parquet"

    killed = lake.cli("put", str(tmp_path / "src"), "--dataset", "big", env=fault_env(point))
    assert killed.returncode == KILLED
    assert lake.hdfs.status(final, strict=False) is None
    assert lake.hdfs.list(f"{lake.root}/big/dt=2026-11-01") == [".part-00000.parquet.uploading"]

    rerun = lake.ok("put", str(tmp_path / "src"), "--dataset", "big")
    assert rerun["records_out"] == 1
    assert lake.hdfs.list(f"{lake.root}/big/dt=2026-11-01") == ["part-00000.parquet"]
    status = lake.hdfs.status(final)
    assert status["length"] == local.stat().st_size
    assert remote_md5(lake.hdfs.checksum(final)) == file_checksum(local, status["blockSize"])


def _totals(lake: Lake, dt: str) -> tuple[int, float, int]:
    rows = lake.sql(
        f"SELECT count(*), round(sum(amount), 2), count(DISTINCT event_id) "
        f"FROM `{lake.database}`.ev WHERE dt = %(dt)s",
        {"dt": dt},
    )
    n, s, d = rows[0]
    return int(n), float(s), int(d)


def _location(lake: Lake, dt: str) -> str:
    rows = lake.sql(f"DESCRIBE FORMATTED `{lake.database}`.ev PARTITION (dt='{dt}')")
    return str(next(r[1] for r in rows if r[0] and r[0].strip() == "Location"))


@pytest.mark.parametrize(
    "point", ["compact.before_swap", "compact.after_swap", "compact.mid_cleanup"]
)
def test_a_compaction_killed_midway_keeps_the_partition_readable_with_the_same_rows(
    lake: Lake, generated: Callable[..., Path], point: str
) -> None:
    data = generated(days=1, files=8, rows=300)
    lake.ok("put", str(data), "--dataset", "ev")
    lake.ok("register", "ev")
    dt = "2026-11-01"
    before = _totals(lake, dt)
    assert before[0] == 8 * 300

    killed = lake.cli("compact", "ev", "--dt", dt, env=fault_env(point))
    assert killed.returncode == KILLED
    assert _totals(lake, dt) == before  # readable, same rows, while the compaction is half done

    done = lake.ok("compact", "ev", "--dt", dt)
    if point == "compact.before_swap":
        assert (done["action"], done["records_out"]) == ("compacted", before[0])
    else:  # the swap happened: the rerun only finishes the cleanup
        assert done["action"] == "skipped"
    assert _totals(lake, dt) == before
    assert lake.hdfs.list(f"{lake.root}/ev/dt={dt}") == []  # the small files are gone
    generations = lake.hdfs.list(f"{lake.root}/ev/_compacted/dt={dt}")
    assert len(generations) == 1  # an unreferenced generation from the killed run is gone too
    location = _location(lake, dt)
    assert location.endswith(f"{lake.root}/ev/_compacted/dt={dt}/{generations[0]}")
    gen_dir = f"{lake.root}/ev/_compacted/dt={dt}/{generations[0]}"
    assert lake.hdfs.list(gen_dir) == ["_manifest.json", "part-00000-compacted.parquet"]
    # A third run has nothing to do.
    assert lake.ok("compact", "ev", "--dt", dt)["action"] == "skipped"


def test_reads_during_a_paused_compaction_see_the_same_rows(
    lake: Lake, generated: Callable[..., Path], tmp_path: Path
) -> None:
    data = generated(days=1, files=6, rows=200)
    lake.ok("put", str(data), "--dataset", "ev")
    lake.ok("register", "ev")
    dt = "2026-11-01"
    before = _totals(lake, dt)
    ready, release = tmp_path / "ready", tmp_path / "release"
    env = fault_env("compact.mid_cleanup", pause=True, ready=ready, release=release)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hdfs_hive", "compact", "ev", "--dt", dt, "--json"],
        env={**os.environ, **lake.env, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ready.exists()
        # Swapped, one small file already deleted: readers are on the new generation.
        assert len(lake.hdfs.list(f"{lake.root}/ev/dt={dt}")) == 5
        assert "_compacted" in _location(lake, dt)
        assert _totals(lake, dt) == before
        release.touch()
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _totals(lake, dt) == before


def test_files_put_after_a_compaction_are_merged_by_the_next_one(
    lake: Lake, generated: Callable[..., Path]
) -> None:
    lake.ok("put", str(generated(days=1, files=3, rows=100)), "--dataset", "ev")
    lake.ok("register", "ev")
    dt = "2026-11-01"
    lake.ok("compact", "ev", "--dt", dt)
    later = generated(days=1, files=2, rows=50, seed=11)
    for f in later.rglob("*.parquet"):
        f.rename(f.with_name(f"late-{f.name}"))
    lake.ok("put", str(later), "--dataset", "ev")
    again = lake.ok("compact", "ev", "--dt", dt)
    assert (again["action"], again["files_before"], again["records_out"]) == ("compacted", 3, 400)
    assert _totals(lake, dt)[0] == 400
