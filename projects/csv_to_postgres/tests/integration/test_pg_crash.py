"""SIGKILL at deterministic points (mid-COPY, mid-merge), rerun; and two loaders at once."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from de_services.testing import fault_env

from .conftest import balanced, load, query, spawn, write

pytestmark = pytest.mark.integration

SMALL_CHUNKS = {"CSV_TO_POSTGRES_CHUNK_BYTES": "16384"}


def _rows(ids: range, tag: str) -> list[str]:
    return [f"{i},{tag}-{i},{i + 0.25}" for i in ids]


def _wait_for(path: Path, proc: Any, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"loader exited early: {proc.communicate()}")
        assert time.monotonic() < deadline, "loader never reached the pause point"
        time.sleep(0.05)


def _table(url: str) -> list[tuple[Any, ...]]:
    return query(url, "SELECT id, name, score FROM p ORDER BY id")


def _backend_state(url: str) -> list[tuple[str, str]]:
    return query(
        url,
        "SELECT state, left(query, 30) FROM pg_stat_activity "
        "WHERE application_name = 'csv_to_postgres' AND datname = current_database() "
        "AND state <> 'idle'",
    )


@pytest.mark.parametrize(
    ("point", "mode"),
    [
        ("load.copy", "append"),
        ("load.copy", "upsert"),
        ("load.merge", "upsert"),
        ("load.merge", "replace"),
    ],
)
def test_sigkill_then_rerun_gives_exactly_one_clean_load(
    db: str, tmp_path: Path, point: str, mode: str
) -> None:
    base = write(tmp_path / "base.csv", "id,name,score", _rows(range(0, 1000), "base"))
    load(str(base), "--table", "p", "--primary-key", "id")
    before = _table(db)

    ids = range(1000, 9000) if mode == "append" else range(500, 9000)
    new = write(tmp_path / "new.csv", "id,name,score", _rows(ids, "new"))
    flag = tmp_path / "paused"
    proc = spawn(
        db,
        [str(new), "--table", "p", "--mode", mode],
        {**SMALL_CHUNKS, **fault_env(point, pause=True, ready=flag)},
    )
    try:
        _wait_for(flag, proc)
        states = _backend_state(db)
        if point == "load.copy":
            assert ("active", "COPY") in [(s, q[:4]) for s, q in states], states
        else:
            assert "idle in transaction" in [s for s, _ in states], states
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert _table(db) == before  # nothing of the killed run is visible

    rerun = spawn(db, [str(new), "--table", "p", "--mode", mode])
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    summary = json.loads(out)
    assert balanced(summary) and summary["records_in"] == len(ids)
    assert summary["status"] == "ok" and summary["files_loaded"] == 1

    expected = {r[0]: r for r in before} if mode != "replace" else {}
    for i in ids:
        expected[i] = (i, f"new-{i}", i + 0.25)
    assert _table(db) == [expected[k] for k in sorted(expected)]
    statuses = [r[0] for r in query(db, "SELECT status FROM c2p_loads ORDER BY started_at")]
    assert statuses == ["done", "abandoned", "done"]


def _together_from_copy(
    db: str, tmp_path: Path, key_ranges: list[range], args: list[str]
) -> list[tuple[str, str]]:
    """One loader per key range, all held inside their COPY at once, then released together.

    Returns each loader's (stdout, stderr) once all of them exited 0.
    """
    release = tmp_path / "go"
    procs, flags = [], []
    for n, ids in enumerate(key_ranges):
        f = write(tmp_path / f"part{n}.csv", "id,name,score", _rows(ids, f"p{n}"))
        flag = tmp_path / f"paused{n}"
        env = {**SMALL_CHUNKS, **fault_env("load.copy", pause=True, ready=flag, release=release)}
        procs.append(spawn(db, [str(f), *args], env))
        flags.append(flag)
    try:
        for flag, proc in zip(flags, procs, strict=True):
            _wait_for(flag, proc)
        # every loader is inside an open COPY at this moment
        copies = [s for s, q in _backend_state(db) if q.startswith("COPY") and s == "active"]
        assert len(copies) == len(key_ranges)
        release.touch()
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0] * len(procs), results
    return results


def test_two_loaders_of_different_files_at_the_same_time(db: str, tmp_path: Path) -> None:
    seed = write(tmp_path / "seed.csv", "id,name,score", _rows(range(0, 1), "seed"))
    load(str(seed), "--table", "p", "--primary-key", "id")
    results = _together_from_copy(
        db, tmp_path, [range(1, 20001), range(20001, 40001)], ["--table", "p"]
    )
    assert [json.loads(out)["inserted"] for out, _ in results] == [20000, 20000]
    assert query(db, "SELECT count(*), count(DISTINCT id), max(id) FROM p") == [
        (40001, 40001, 40000)
    ]
    assert query(db, "SELECT count(*) FROM c2p_loads WHERE status = 'done'") == [(3,)]


def test_two_upserts_with_overlapping_keys_at_the_same_time(db: str, tmp_path: Path) -> None:
    seed = write(tmp_path / "seed.csv", "id,name,score", _rows(range(0, 1), "seed"))
    load(str(seed), "--table", "u", "--primary-key", "id")
    # keys 10001..20000 are in both files: whichever merges second must update them, not fail
    results = _together_from_copy(
        db, tmp_path, [range(1, 20001), range(10001, 30001)], ["--table", "u", "--mode", "upsert"]
    )
    counts = sorted((json.loads(out)["inserted"], json.loads(out)["updated"]) for out, _ in results)
    assert counts == [(10000, 10000), (20000, 0)]
    assert query(db, "SELECT count(*), count(DISTINCT id), min(id), max(id) FROM u") == [
        (30001, 30001, 0, 30000)
    ]
    # every shared key holds the row of whichever loader merged last, never a mix
    assert query(
        db, "SELECT count(DISTINCT left(name, 2)) FROM u WHERE id BETWEEN 10001 AND 20000"
    ) == [(1,)]


def test_same_file_twice_at_the_same_time_loads_once(db: str, tmp_path: Path) -> None:
    f = write(tmp_path / "same.csv", "id,name,score", _rows(range(0, 5000), "s"))
    load(
        str(write(tmp_path / "seed.csv", "id,name,score", _rows(range(-1, 0), "z"))),
        "--table",
        "p",
        "--primary-key",
        "id",
    )
    procs = [spawn(db, [str(f), "--table", "p"]) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    summaries = sorted((json.loads(out) for out, _ in results), key=lambda s: s["inserted"])
    assert [s["inserted"] for s in summaries] == [0, 5000]
    # the second one waited on the first and skipped the same content: its rows are already loaded
    assert summaries[0]["records_skipped"]["already_loaded"] == 5000
    assert all(balanced(s) and s["records_in"] == 5000 for s in summaries)
    assert query(db, "SELECT count(*) FROM p") == [(5001,)]
    assert os.environ.get("DE_FAULT") is None
